"""Phrase templates and the grooming-stage banks.

A bank is written as text, one template per line. After ``::`` a line may carry markers:
``+stage`` adds a stage label (multi-label lines) and ``>key`` names the reply bank the other
speaker draws from next. Slots in braces (``{game}``) are filled per conversation and speaker:
``name`` is the addressee, ``me`` the speaker, ``age``/``grade``/``school``/``town`` are the
speaker's own (claimed) facts, ``yage``/``ytown`` the addressee's.

Content rule (DOMAIN §3.5): grooming is shown only through behaviours that child-safety
education material describes openly. No template is sexual or describes anyone's body; image
requests never go beyond "send me a pic of you" / "what do you look like". The blocklist test
scans generated text to keep it that way.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.schema import STAGES


@dataclass(frozen=True, slots=True)
class Template:
    """One phrase: its text, the stage labels it carries, and the reply bank it invites."""

    text: str
    stages: tuple[str, ...] = ()
    reply: str = ""
    has_slots: bool = False


def parse_bank(block: str, stage: str | None = None) -> tuple[Template, ...]:
    """Parse a bank written one template per line (see the module docstring).

    Args:
        block: the bank's text.
        stage: the stage every line carries, or None (lines then carry only their ``+stage``
            markers, if any).

    Raises:
        ValueError: on an unknown marker or stage, or on ``sexual``.

    Examples:
        >>> bank = parse_bank('''how old are you? :: >age
        ...     don't tell anyone ok :: +exclusivity''', "secrecy")
        >>> bank[0].stages, bank[0].reply, bank[1].stages
        (('secrecy',), 'age', ('secrecy', 'exclusivity'))
    """
    out: list[Template] = []
    for raw in block.strip().splitlines():
        text, _, marks = raw.strip().partition("::")
        text = text.strip()
        if not text:
            continue
        stages = [stage] if stage else []
        reply = ""
        for mark in marks.split():
            if mark.startswith(">"):
                reply = mark[1:]
            elif mark.startswith("+") and mark[1:] in STAGES:
                stages.append(mark[1:])
            else:
                raise ValueError(f"bad marker {mark!r} in template {text!r}")
        if "sexual" in stages:
            raise ValueError("the synthetic corpus never generates the 'sexual' stage")
        out.append(Template(text, tuple(stages), reply, "{" in text))
    return tuple(out)


#: Stages a groomer uses before escalation, and the late ones (the escalation stages).
MID_STAGES: tuple[str, ...] = (
    "personal_info", "risk_check", "compliments", "exclusivity", "gifts", "secrecy", "isolation"
)  # fmt: skip
LATE_STAGES: tuple[str, ...] = ("platform_move", "image_request", "approach")

_GROOMER_BANKS: dict[str, str] = {
    "personal_info": """
        how old are you? :: >age
        how old r u btw :: >age
        wait how old are you again :: >age
        i'm {age} btw, how old are you? :: >age
        what grade are you in? :: >grade
        what grade r u in now :: >grade
        what school do you go to :: >school
        which school is that, is it the one in your town? :: >school
        where do you live? :: >where
        what town are you in :: >where
        do you live near {place}? :: >where
        are you close to {place} or far :: >where
        what time do you get out of school :: >schedule
        do you walk home from school or get a ride :: >schedule
        what do you do after school usually :: >schedule
        when's your birthday? :: >birthday
        whats your real name, {name} is your username right :: >realname
        do you have your own phone? :: >phone
        what's your address, i want to send you something :: +gifts >where
        so you're {yage}? :: >age
    """,
    "risk_check": """
        are your parents home? :: >alone
        is anyone else there with you right now :: >alone
        are you alone rn :: >alone
        when do your parents get home :: >alone
        is your mom around? :: >alone
        who else uses your computer :: >phone
        does your mom check your phone? :: >phone
        do your parents read your messages :: >phone
        does anyone else know your password :: >phone
        where's your computer, can people see the screen :: >phone
        would your parents be mad if they saw you talking to me :: >phone
        is your dad strict about who you talk to online :: >phone
        do you delete your chats? :: +secrecy >phone
        does anyone look at your {game} messages :: >phone
    """,
    "compliments": """
        you're so mature for your age :: >compliment
        you seem way older than {yage} honestly :: >compliment
        you're really smart, not like other kids your age :: >compliment
        you're so good at {game}, seriously :: >compliment
        i love talking to you, you're so easy to talk to :: >compliment
        you're really funny you know that :: >compliment
        you're more mature than people my age :: >compliment
        you're really special :: >compliment
        you're so much cooler than the people i know :: >compliment
        you're going to do big things one day :: >compliment
        you're so grown up for {yage} :: >compliment
        you've got great taste in music :: >compliment
        you're different from everyone else :: >compliment
        you're smarter than most adults i know lol :: >compliment
        you deserve way better than how people treat you :: >compliment
    """,
    "exclusivity": """
        you can tell me anything :: >special
        you can tell me anything, i won't judge :: >special
        i feel like we have a special connection :: >special
        you're my best friend honestly :: >special
        nobody gets me like you do :: >special
        this is our special friendship :: >special
        i've never talked to anyone like this before :: >special
        you're the only one i can really talk to :: >special
        promise you'll always talk to me :: >special
        i'm always here for you, anytime, day or night :: >special
        i understand you better than anyone :: >special
        we have something special you know :: >special
        i'd do anything for you :: >special
    """,
    "gifts": """
        want me to get you some {currency}? :: >gift
        i can send you {gift} :: >gift
        i'll buy you the battle pass if you want :: >gift
        i just sent you {amount} {currency} :: >gift
        what do you want for your birthday, i'll get it :: >gift
        i can get you a new phone if your mom won't :: >gift
        i'll send you a {card} gift card :: >gift
        you deserve something nice, let me buy you that skin :: +compliments >gift
        i'll top up your account, don't worry about it :: >gift
        check your inbox, got you a little something :: >gift
        i'll give you {amount} {currency} if you want :: >gift
        i'll pay for it, you don't have to ask your parents :: +isolation >gift
    """,
    "secrecy": """
        don't tell anyone we talk ok :: >secret
        let's keep this between us :: >secret
        this is our little secret :: >secret
        delete our chat after ok :: +risk_check >secret
        don't tell your mom about me :: >secret
        your parents wouldn't understand, so don't mention me :: +isolation >secret
        if anyone asks just say i'm a friend from school :: >secret
        make sure nobody sees our messages :: +risk_check >secret
        don't tell your friends about the {currency} i sent :: +gifts >secret
        promise not to tell ok? :: >secret
        people wouldn't get our friendship so keep it quiet :: +exclusivity >secret
        it's just between you and me :: >secret
    """,
    "isolation": """
        your friends don't really get you like i do :: +exclusivity >isolation
        your parents are so strict, they don't understand you :: >isolation
        you don't need them, you have me :: +exclusivity >isolation
        why do you even hang out with them :: >isolation
        they're just jealous of you :: >isolation
        sounds like your mom doesn't listen to you, i always will :: >isolation
        skip the party and talk to me instead :: >isolation
        your sister sounds so annoying, just ignore her :: >isolation
        i'm the only one who really cares about you :: +exclusivity >isolation
        your teachers don't appreciate you :: >isolation
        forget {friend}, they don't deserve you :: >isolation
    """,
    "platform_move": """
        do you have {app}? :: >move
        add me on {app}, it's easier to talk there :: >move
        let's talk on {app} instead :: >move
        what's your {app}? :: >move
        this chat is kinda public, let's go to {app} :: +risk_check >move
        {app} is better, the messages disappear :: +secrecy >move
        can i have your number? :: >move
        text me instead, here's my number :: >move
        download {app} so we can talk privately :: +secrecy >move
        let's go to a private chat :: >move
        my {app} is {me}{amount}, add me :: >move
    """,
    "image_request": """
        send me a pic of you :: >pic
        what do you look like? :: >pic
        do you have a selfie? :: >pic
        can i see a picture of you :: >pic
        send me a selfie so i know you're real :: >pic
        i showed you mine, now send me yours :: >pic
        can you turn on your camera :: >pic
        send me a pic on {app} :: +platform_move >pic
        send me a pic of you, just for me :: +exclusivity >pic
    """,
    "approach": """
        we should meet up sometime :: >meet
        i'll be in {ytown} {day}, wanna meet? :: >meet
        i could pick you up after school :: >meet
        let's meet at {place} on {day} :: >meet
        do you want to hang out in real life :: >meet
        i can drive to you, it's not far :: >meet
        come alone ok, don't bring anyone :: +secrecy >meet
        i'll wait for you at {place} at {time} :: >meet
        we could get food at {place} if you want :: +gifts >meet
        tell your mom you're at a friend's house :: +secrecy >meet
        i'd love to meet you for real :: +exclusivity >meet
    """,
}

#: Stage → the groomer's templates for it.
GROOMER_BANKS: dict[str, tuple[Template, ...]] = {
    stage: parse_bank(text, stage) for stage, text in _GROOMER_BANKS.items()
}
