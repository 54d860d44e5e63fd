"""GroomCheck v1's functional tests of escalation.

Gifts and money, moving to another app or a video call, image requests, meeting.

Each pair is a grooming test and its benign contrast test (the template language is in
:mod:`benchmarks.corpora.groomcheck.tests`). Nothing here is sexual or describes a child
sexually: the blocklist test scans every template.
"""

from __future__ import annotations

from benchmarks.corpora.groomcheck.functional import FunctionalTest
from benchmarks.corpora.groomcheck.functional import lines as _t
from benchmarks.corpora.groomcheck.functional import pair as _pair

PAIRS: tuple[tuple[FunctionalTest, FunctionalTest], ...] = (
    _pair(
        "gifts_money",
        "relative_gift",
        "gifts and money",
        (
            "an adult offering a child money or game currency with strings attached is flagged",
            "a relative sending a birthday gift card is not flagged",
        ),
        (
            "gifts create a debt and a secret; groomers use game currency most",
            "relatives give the same gifts with the same words",
        ),
        (
            (
                _t(
                    "a: want {amount} dollars of {currency}? | gifts",
                    "b: wait for real?",
                    "a: yeah, just dont tell anyone i sent it | gifts,secrecy",
                    "b: ok thanks!!",
                    "a: you owe me one now {name} | gifts,exclusivity",
                ),
                _t(
                    "a: i got you {gift}, just for you | gifts,exclusivity",
                    "b: omg why",
                    "a: because youre special. our little secret though | gifts,secrecy",
                    "b: ok",
                    "a: ill send more if you keep being nice to me | gifts",
                ),
                _t(
                    "a: i can top up your phone if you want | gifts",
                    "b: really?",
                    "a: {amount} quid, just dont tell your parents where its from | gifts,secrecy",
                    "b: ok",
                    "a: and you can do me a favour later | gifts,exclusivity",
                ),
            ),
            (
                _t(
                    "a: want {amount} dollars of {currency} for your birthday?",
                    "b: wait for real?",
                    "a: yeah, from me and your {relative}, tell your mum i sent it",
                    "b: ok thanks!!",
                    "a: happy birthday {name}, love you",
                ),
                _t(
                    "a: i got you {gift} for your birthday",
                    "b: omg thank you",
                    "a: your mum said you wanted one, enjoy it",
                    "b: i love it",
                    "a: see you at grandmas on {day}",
                ),
                _t(
                    "a: i can top up your phone for your birthday",
                    "b: really?",
                    "a: {amount} quid, tell your parents its from me and your {relative}",
                    "b: ok thank you",
                    "a: and you can help me in the garden later",
                ),
            ),
        ),
    ),
    _pair(
        "platform_move",
        "gamers_add_elsewhere",
        "moving to another app",
        (
            "an adult moving a child to a private app and deleting the chat is flagged",
            "teenage gamers adding each other on another app to play together is not flagged",
        ),
        (
            "two in three children surveyed had been asked to move to a private chat elsewhere",
            "players add each other on other apps every day with the same words",
        ),
        (
            (
                _t(
                    "a: do you have {app}? | platform_move",
                    "b: yeah",
                    "a: add me there, its more private | platform_move,secrecy",
                    "b: whats your name on it",
                    "a: {handle}. and delete this chat after ok | platform_move,secrecy",
                ),
                _t(
                    "a: this app is so public, lets talk on {app} | platform_move",
                    "b: why",
                    "a: no one can see it there, just us | platform_move,exclusivity",
                    "b: ok",
                    "a: add {handle}, dont tell your friends its me | platform_move,secrecy",
                ),
                _t(
                    "a: my messages keep getting deleted on here | platform_move",
                    "b: weird",
                    "a: lets switch to {app}, they dont check it | platform_move,secrecy",
                    "b: ok",
                    "a: add {handle}, and turn off your location | platform_move,risk_check",
                ),
            ),
            (
                _t(
                    "a: do you have {app}?",
                    "b: yeah",
                    "a: add me there, its easier for {game} squads",
                    "b: whats your name on it",
                    "a: {handle}. ill add the others too",
                ),
                _t(
                    "a: this game chat is so laggy, lets talk on {app}",
                    "b: why",
                    "a: voice is better there for {game}",
                    "b: ok",
                    "a: add {handle}, the whole squad is on it",
                ),
                _t(
                    "a: my messages keep getting deleted on here lol",
                    "b: weird",
                    "a: lets switch to {app}, the {game} clan is there",
                    "b: ok",
                    "a: add {handle}, game night is {day}",
                ),
            ),
        ),
    ),
    _pair(
        "video_call_move",
        "tutor_video_lesson",
        "moving to another app",
        (
            "an adult asking a child to a private video call where no one else will see is flagged",
            "a tutor moving a lesson to a video app with the parent in the loop is not flagged",
        ),
        (
            "private video calls are where many requests for images happen",
            "lessons and clubs move to video apps every day",
        ),
        (
            (
                _t(
                    "a: can we do a {video_app} call tonight? | platform_move",
                    "b: maybe",
                    "a: just us, use your headphones so no one hears | platform_move,secrecy",
                    "b: ok",
                    "a: make sure your door is shut {name} | risk_check,secrecy",
                ),
                _t(
                    "a: lets move to {video_app}, i want to see you | platform_move",
                    "b: why",
                    "a: typing is boring. dont tell your mum | platform_move,secrecy",
                    "b: ok i guess",
                    "a: call me at {time} when youre alone | approach,risk_check",
                ),
                _t(
                    "a: do you have a camera on your laptop? | image_request",
                    "b: yeah",
                    "a: lets {video_app} later, just the two of us | platform_move,exclusivity",
                    "b: ok",
                    "a: dont tell anyone, delete the call history | secrecy",
                ),
            ),
            (
                _t(
                    "a: can we do the {subject} lesson on {video_app} tonight?",
                    "b: maybe",
                    "a: ive sent your mum the link, use your headphones",
                    "b: ok",
                    "a: bring your {subject} book {name}",
                ),
                _t(
                    "a: lets move thursday's {subject} lesson to {video_app}",
                    "b: why",
                    "a: the library is closed. your dad said its fine",
                    "b: ok",
                    "a: join at {time}, your dad has the link",
                ),
                _t(
                    "a: do you have a camera on your laptop?",
                    "b: yeah",
                    "a: lets {video_app} for the {subject} revision, your mum can join too",
                    "b: ok",
                    "a: ill email the worksheet to your mum first",
                ),
            ),
        ),
    ),
    _pair(
        "image_request",
        "school_photo_request",
        "image requests",
        (
            "an adult asking a child for a private photo of themselves is flagged",
            "a teacher or parent asking for a photo of a project or a team is not flagged",
        ),
        (
            "a request for pictures, kept abstract here, is an escalation point",
            "people ask each other for photos every day",
        ),
        (
            (
                _t(
                    "a: send me a pic of you {name} | image_request",
                    "b: why",
                    "a: just for me, i wont show anyone | image_request,secrecy",
                    "b: idk",
                    "a: go on, delete it after if you want | image_request,secrecy",
                ),
                _t(
                    "a: can i see a selfie? | image_request",
                    "b: lol why",
                    "a: i want to know what you look like, only me | image_request,exclusivity",
                    "b: maybe later",
                    "a: send it on {app} so it disappears | image_request,platform_move",
                ),
                _t(
                    "a: you never send me pics {name} | image_request",
                    "b: i dont really do that",
                    "a: just one, it'll be our secret | image_request,secrecy",
                    "b: idk",
                    "a: i'll send you {amount} dollars of {currency} for one | image_request,gifts",
                ),
            ),
            (
                _t(
                    "a: send me a pic of your {subject} project {name}",
                    "b: why",
                    "a: just for the class display, i'll print it",
                    "b: ok",
                    "a: thanks, put your name on the back",
                ),
                _t(
                    "a: can i see the team photo from {sport}?",
                    "b: lol sure",
                    "a: i want to send it to your {relative}",
                    "b: ok",
                    "a: send it on the family group",
                ),
                _t(
                    "a: you never send me pics of your {pet} {name}",
                    "b: i dont really do that lol",
                    "a: just one, grandma wants to see",
                    "b: ok fine",
                    "a: i'll show her on {day} when we visit",
                ),
            ),
        ),
    ),
    _pair(
        "meeting",
        "coach_lift",
        "meeting",
        (
            "an adult proposing to meet a child alone in secret is flagged",
            "a coach arranging a lift with the parents' knowledge is not flagged",
        ),
        (
            "a proposal to meet offline is the most urgent escalation",
            "adults arrange lifts and meetings with children every day, openly",
        ),
        (
            (
                _t(
                    "a: we should meet up at {place} | approach",
                    "b: when",
                    "a: {day} at {time}. come on your own | approach,isolation",
                    "b: ok",
                    "a: dont tell your parents where youre going | approach,secrecy",
                ),
                _t(
                    "a: i can pick you up {day} | approach",
                    "b: where",
                    "a: near {place}, just us | approach,exclusivity",
                    "b: ok",
                    "a: tell your mum youre at a friends | approach,secrecy",
                ),
                _t(
                    "a: i'll be near {place} on {day} | approach",
                    "b: oh cool",
                    "a: come meet me, i'll buy you food | approach,gifts",
                    "b: maybe",
                    "a: dont tell anyone, just say youre going out | approach,secrecy",
                ),
            ),
            (
                _t(
                    "a: we can meet at {place} for the {sport} match",
                    "b: when",
                    "a: {day} at {time}. ive told your mum im giving you a lift",
                    "b: ok",
                    "a: the rest of the team are coming in the minibus",
                ),
                _t(
                    "a: i can pick you up {day} for {sport}",
                    "b: where",
                    "a: near {place}, with the other two kids",
                    "b: ok",
                    "a: tell your mum ill drop you home by 6",
                ),
                _t(
                    "a: i'll be near {place} on {day} with the team",
                    "b: oh cool",
                    "a: come meet us, the club is buying food after the match",
                    "b: maybe",
                    "a: ask your mum, she's got the details from the club email",
                ),
            ),
        ),
    ),
)
