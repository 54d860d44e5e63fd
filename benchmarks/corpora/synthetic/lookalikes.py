"""Hard-negative cue lines: benign chats that reuse grooming's surface words.

Each scenario's cues ask ages and schools, keep secrets, move apps, send gifts, arrange meetings
or praise maturity, for ordinary reasons (DOMAIN §3.5). They carry no stage labels: stage labels
mark grooming behaviour only.
"""

from __future__ import annotations

from .templates import Template, parse_bank

#: Scenario → (cue lines of the first role, cue lines of the second role).
CUES: dict[str, tuple[tuple[Template, ...], tuple[Template, ...]]] = {}

_PEER_CUES = parse_bank("""
    how old are you? :: >p_age
    how old r u btw :: >p_age
    what grade are you in :: >p_grade
    what school do you go to? :: >p_school
    where do you live, like which part of {town} :: >p_where
    don't tell anyone but i failed the {subject} test :: >p_secret
    promise you won't tell anyone i cried at the movie lol :: >p_secret
    you're so mature for your age lol, unlike my brother
    my mom reads my messages sometimes so don't say anything weird lol
    add me on {app} :: >p_move
    can i have your number? this app keeps crashing :: >p_move
    send me a pic of your {pet}!! :: >p_pic
    wanna meet at {place} {day}? {friend} is coming too :: >p_meet
    keep it a secret but {friend} likes someone in our class :: >p_secret
""")
CUES["hn_peers_age_school"] = (_PEER_CUES, _PEER_CUES)

_GAMER_CUES = parse_bank("""
    add me on {voice} :: >g_voice
    let's move to {voice}, typing is too slow :: >g_voice
    what's your {voice}? :: >g_voice
    join the vc on {voice} :: >g_voice
    do you have a mic? :: >g_mic
    i'll gift you {amount} {currency} for your birthday :: >g_gift
    i got you the battle pass lol, happy birthday :: >g_gift
    don't tell your brother i gave you the skin lol :: >p_secret
    how old are you btw? :: >p_age
    you're so good at {game}, you're carrying :: >n_compliment
    are your parents ok with you playing this late? :: >g_late
    wanna meet at the {game} tournament at {place}? my dad can drive us :: >p_meet
    keep our strat secret, don't tell the other team :: >p_secret
""")
CUES["hn_gaming_voice"] = (_GAMER_CUES, _GAMER_CUES)

CUES["hn_surprise_party"] = (
    parse_bank("""
        don't tell dad about the party, it's a surprise :: >s_ok
        it's our little secret until {day} :: >s_ok
        delete this message so he doesn't see it lol :: >s_ok
        is dad home? don't let him see your phone :: >s_ok
        keep it a secret ok, even from grandma :: >s_ok
        meet me at {place} at {time} so we can pick up the cake :: >s_ok
        don't tell anyone, not even {friend}, they might tell him :: >s_ok
        you're so mature for keeping this quiet, thank you :: >n_compliment
        send me a pic of the banner when it's up :: >s_ok
    """),
    parse_bank("""
        does dad suspect anything?
        i won't tell, i promise
        i hid the present in my closet
        can i invite {friend}? i'll tell them it's a secret
        dad almost saw my phone lol
        what time should i get him out of the house
    """),
)

CUES["hn_coach_meeting"] = (
    parse_bank("""
        can you meet at {place} at {time} for extra practice? your mom said it's fine :: >c_meet
        practice is at {time} {day}, meet at the field :: >c_meet
        you're so mature on the court, the younger ones look up to you :: >n_compliment
        you're one of my best players honestly :: >n_compliment
        great job today, you're really talented :: >n_compliment
        how old are you now, for the league form? :: >p_age
        what school do you go to? i need it for the roster :: >p_school
        bring your parents to the meeting on {day} :: >c_meet
        don't tell the team yet, but you're captain next season :: >s_ok
        send me a pic of the signed form :: >c_form
    """),
    parse_bank("""
        what time do we meet {day}?
        can my dad drop me at {place}?
        where do we meet for the bus
        my mom signed it, i'll send a pic
    """),
)

# Version 2 only (version 1's scenario list is fixed): a tutor moving a lesson to a video app.
CUES["hn_tutor_video"] = (
    parse_bank("""
        can we do today's {subject} lesson on {voice} instead? your mom already said yes :: >s_ok
        i'll send the video link for {day} at {time}, your dad has it too :: >s_ok
        let's move our lessons to {voice}, the school portal keeps crashing :: >s_ok
        share your screen so i can see the worksheet
        how old are you now, for the tutoring form? :: >p_age
        you did really well today, you're a quick learner :: >n_compliment
        don't tell the others yet, but you're ready for the advanced group :: >s_ok
    """),
    parse_bank("""
        ok i'll join the link after dinner
        my mom set up the laptop for the lesson
        can my brother sit in too?
        is it the same link as last week?
        my dad says {voice} is fine
    """),
)

CUES["hn_adults_date"] = (
    parse_bank("""
        how old are you btw? :: >a_age
        wanna meet for coffee {day}? :: >a_meet
        let's meet at {place} at {time} :: >a_meet
        send me a pic so i recognize you :: >a_pic
        what do you look like? i'm bad with faces lol :: >a_pic
        let's move to {app}, i barely check this app :: >a_move
        can i have your number? :: >a_move
        you're really easy to talk to :: >n_compliment
        don't tell my sister we're going out, she'll never let it go lol :: >s_ok
        are you free {day}? :: >a_meet
        i feel like i can tell you anything lol :: >n_compliment
    """),
    parse_bank("""
        how old are you? :: >a_age
        where should we meet?
        i'll send you a pic so you know it's me
        my {app} is {me}{amount}
        do you want to get dinner instead?
    """),
)

CUES["hn_relative_gift"] = (
    parse_bank("""
        i sent you a {card} gift card for your birthday :: >r_gift
        check your email, there's a little something from me :: >r_gift
        i'll put some {currency} on your account, your mom said it's ok :: >r_gift
        don't tell your brother, his present is coming next week :: >s_ok
        you're so grown up now! :: >n_compliment
        how old are you now, {yage}? time flies :: >p_age
        what grade are you in now? :: >p_grade
        send me a photo from the game! :: >r_photo
        we'll come visit {day}, can't wait to see you :: >r_visit
        is your mom home? i called but no answer :: >r_home
    """),
    parse_bank("""
        thank you for the gift card!!
        can i use the gift card on {game}?
        i'm {age} now lol
        i'll send you a pic from the game
    """),
)

CUES["hn_teacher_praise"] = (
    parse_bank("""
        you're so mature in this essay, really impressive :: >n_compliment
        you're one of the most talented students i've had :: >n_compliment
        great work on the {subject} project :: >n_compliment
        come see me after class to talk about the competition :: >t_meet
        can you and your parents meet me on {day}? :: >t_meet
        don't tell the others yet, but you won the prize :: >s_ok
        keep this between us until the announcement :: >s_ok
        send me a photo of your poster for the display :: >r_photo
    """),
    parse_bank("""
        can we meet after class about my grade?
        thank you, i worked really hard on it
        is it ok if my mom comes to the meeting
    """),
)

CUES["hn_siblings_secret"] = (
    parse_bank("""
        don't tell mom i broke the vase :: >p_secret
        delete these texts so she doesn't see lol :: >s_ok
        is mom home yet? :: >r_home
        it's our secret ok :: >s_ok
        i'll give you {amount} {currency} if you don't tell :: >g_gift
        meet me at {place} after school, we'll buy a new one :: >p_meet
    """),
    parse_bank("""
        i won't tell if you give me your {game} account lol
        she's asking about the vase
        ok i deleted them
    """),
)

#: Reply key → benign replies to cue lines.
REPLIES: dict[str, tuple[Template, ...]] = {
    key: parse_bank(text)
    for key, text in {
        "p_age": "{age} wbu\ni'm {age}\n{age}, you?\n{age} lol why\nturning {age} soon",
        "p_grade": "{grade}\n{grade} grade\nsame as you lol",
        "p_school": "{school}\n{school} wbu\nthe one near {place}",
        "p_where": "near {place}\nby the park\nsame side as {friend}",
        "p_secret": "lol i won't tell\nomg ok\nsame tbh\nmy lips are sealed\nhaha ok",
        "p_move": "ok it's {me}{amount}\nsure\ni'll add you\ni don't have {app} lol",
        "p_pic": "omg one sec\nhe's sleeping lol\nok sending",
        "p_meet": "yes!!\ni have to ask my mom\ncan't {day}, maybe next week\nok what time",
        "g_voice": "ok\nsure, it's {me}{amount}\ni'll join in 5\ncan't, my mic is broken",
        "g_mic": "yeah\nmy mic is bad lol\nno, i'll just listen",
        "g_gift": "omg thanks!!\nno way\nyou didn't have to lol\nthank you",
        "g_late": "my mom says 10 is the limit\nit's the weekend lol\ni have to stop at 9",
        "s_ok": "ok!!\ni won't tell\nhaha ok\ndone\nthanks!\nsounds good",
        "n_compliment": "thank you!\nthanks!!\naw thanks\nreally? thanks\nthat means a lot",
        "c_meet": "ok see you there\ncan my mom come too?\nsounds good coach\ni'll be there",
        "c_form": "ok sending it now\nmy mom will send it",
        "a_age": "{age}, you?\ni'm {age}\n{age} haha",
        "a_meet": "sounds good\nsure, what time?\n{day} works\ncan we do {time}?",
        "a_pic": "sure, sending one now\ni'll be in a red jacket lol\nhaha ok one sec",
        "a_move": "sure, it's {me}{amount}\nok add me\nok texting you now",
        "r_gift": "thank you so much!!\nomg thanks\ni'm getting {game} stuff with it",
        "r_photo": "ok i'll ask mom to send it\nsure!\nok",
        "r_visit": "yay!!\ncan't wait\nsee you then",
        "r_home": "she's at work, back at 6\nyeah she's here\nnot yet",
        "t_meet": "ok thank you\nsure, {day} works\nok i'll tell my mom",
    }.items()
}

_PEER_BORROWED = """
    how old are you? | how old r u btw | what grade are you in? | what school do you go to |
    where do you live? | what town are you in | do you have {app}? | what's your {app}? |
    can i have your number? | you're really funny you know that | you can tell me anything |
    you're my best friend honestly | promise not to tell ok? | let's keep this between us |
    it's just between you and me | is your mom around? | what time do you get out of school |
    when's your birthday? | we should meet up sometime | do you want to hang out in real life
"""
_GAMER_BORROWED = """
    do you have {app}? | add me on {app}, it's easier to talk there | let's talk on {app} instead |
    what's your {app}? | want me to get you some {currency}? | i just sent you {amount} {currency} |
    i'll give you {amount} {currency} if you want | you're so good at {game}, seriously |
    how old are you? | i'll buy you the battle pass if you want | what grade r u in now |
    let's go to a private chat
"""
_DATE_BORROWED = """
    how old are you? | what do you look like? | send me a pic of you | can i see a picture of you |
    can i have your number? | we should meet up sometime | let's meet at {place} on {day} |
    i'd love to meet you for real | i'll be in {ytown} {day}, wanna meet? |
    do you want to hang out in real life | what town are you in | where do you live? |
    i love talking to you, you're so easy to talk to | you can tell me anything |
    i feel like we have a special connection | add me on {app}, it's easier to talk there |
    let's talk on {app} instead | text me instead, here's my number |
    we could get food at {place} if you want
"""
_SECRET_BORROWED = """
    this is our little secret | let's keep this between us | promise not to tell ok? |
    it's just between you and me | delete our chat after ok
"""
#: Scenario → groomer-bank lines (by text) that its speakers also say, for benign reasons,
#: as (first role's, second role's). They are used without their stage labels.
BORROWED: dict[str, tuple[str, str]] = {
    "hn_peers_age_school": (_PEER_BORROWED, _PEER_BORROWED),
    "hn_gaming_voice": (_GAMER_BORROWED, _GAMER_BORROWED),
    "hn_adults_date": (_DATE_BORROWED, _DATE_BORROWED),
    "hn_surprise_party": (_SECRET_BORROWED, ""),
    "hn_siblings_secret": (
        _SECRET_BORROWED + "| i'll give you {amount} {currency} if you want",
        _SECRET_BORROWED,
    ),
    "hn_coach_meeting": (
        """
        you're so mature for your age | you're going to do big things one day |
        what time do you get out of school | i could pick you up after school |
        let's meet at {place} on {day} | i'll wait for you at {place} at {time} |
        how old are you? | what school do you go to | what grade are you in? |
        do you walk home from school or get a ride
        """,
        "",
    ),
    "hn_relative_gift": (
        """
        i'll send you a {card} gift card | what do you want for your birthday, i'll get it |
        check your inbox, got you a little something | you're so grown up for {yage} |
        what grade are you in? | when do your parents get home | is your mom around? |
        i can send you {gift} | want me to get you some {currency}? |
        you're so mature for your age | you're really special | can i see a picture of you
        """,
        "",
    ),
    "hn_teacher_praise": (
        """
        you're so mature for your age | you're really smart, not like other kids your age |
        you're going to do big things one day
        """,
        "",
    ),
}
