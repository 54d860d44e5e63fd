"""The child's side of grooming conversations: replies, keyed by what the groomer asked.

Replies include hesitation and refusal as often as compliance. Disclosures of the child's own
age, school or whereabouts carry ``personal_info`` (ChatCoder codes the victim's side too); all
other replies are unlabelled.
"""

from __future__ import annotations

from .templates import Template, parse_bank

_CHILD_REPLIES: dict[str, str] = {
    "age": """
        i'm {age} :: +personal_info
        {age} wbu :: +personal_info
        {age} :: +personal_info
        i'm {age} lol why
        why do you want to know
        almost {age} haha
    """,
    "grade": """
        {grade} grade :: +personal_info
        i'm in {grade} :: +personal_info
        {grade}, it's so boring
    """,
    "school": """
        {school} :: +personal_info
        i go to {school} :: +personal_info
        why lol
        i don't really want to say
    """,
    "where": """
        near {town} :: +personal_info
        {town} :: +personal_info
        not telling lol
        why do you want to know
        kind of near there yeah
    """,
    "schedule": """
        like 3 :: +personal_info
        my mom picks me up
        i walk with my friends :: +personal_info
        i have {sport} after school
    """,
    "birthday": "in {month} :: +personal_info\n{month}!\nwhy lol",
    "realname": "it's {me} :: +personal_info\nlol why\ni don't give that out",
    "phone": """
        no they never check
        sometimes my mom does
        idk
        my dad checks it on sundays
        i have my own phone
        no why
        my mom says i shouldn't talk to people i don't know
    """,
    "alone": """
        my mom's at work
        yeah i'm alone
        my brother is here
        they get home at 6
        my dad is downstairs
        why
    """,
    "compliment": "aw thanks\nreally?\nlol thanks\nty\nhaha no i'm not\nthank u :)\nidk about that",
    "special": "ya\naw\nyou're my best friend too\nidk lol\ni guess\nthat's kind of weird",
    "secret": """
        ok
        i won't tell
        why not?
        ok i promise
        why would i tell anyone
        my mom would be mad lol
        that's kind of weird
    """,
    "isolation": """
        ya they're annoying
        idk my friends are nice
        ya my mom doesn't get me
        i guess
        they're not that bad
    """,
    "gift": """
        omg really??
        thank u so much
        you don't have to
        wait really
        my mom would ask where i got it
        no it's ok
    """,
    "move": """
        ok
        i don't have {app}
        my mom doesn't let me have {app}
        ok what's your name on there
        i'll add you later
        idk
        why can't we just talk here
    """,
    "pic": """
        idk
        why
        i don't like taking pics
        maybe later
        no lol
        i don't really do that
    """,
    "meet": """
        idk my mom wouldn't let me
        maybe
        where?
        i can't
        idk is that ok
        i have {sport} on {day}
        i'd have to ask my parents
    """,
}

#: Reply key → the child's replies to grooming lines; disclosures of the child's own age,
#: school or whereabouts are labelled ``personal_info`` (ChatCoder codes the victim's side too).
CHILD_REPLIES: dict[str, tuple[Template, ...]] = {
    key: parse_bank(text) for key, text in _CHILD_REPLIES.items()
}
