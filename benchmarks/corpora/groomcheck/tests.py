"""GroomCheck v1's functional tests: what each checks, why, and its templates.

A functional test (CheckList's "minimum functionality test", MFT) is a set of short
conversations that all have the same right answer. Grooming tests (``label`` 1) each have a
contrast test (``label`` 0) whose cases share their surface: the same slots, the same opening
small talk, the same length, the same cue words, in a benign context (a coach arranging a lift,
a parent's surprise secret). A detector that keys on the cue words fails one of the two.

A template is a few lines, one message each, written ``role: text | stages``:

- ``a`` is the person the test is about: the groomer, or the benign adult or peer who uses
  the same words; ``b`` is the other person (the child, or the peer);
- ``{slot}`` is filled from :data:`benchmarks.corpora.groomcheck.slots.SLOTS`;
- ``| stages`` (grooming templates only) labels the message with stages of DOMAIN §2;
- a line ``~`` is a gap of one to three days (slow tests).

Nothing here is sexual or describes a child sexually: the blocklist test scans every template,
every slot value and every generated case.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionalTest:
    """One GroomCheck functional test.

    Attributes:
        id: the test's name, as results and MLflow show it (``groomcheck.<id>.*``).
        label: 1 when every case is grooming, 0 when none is.
        capability: the group it belongs to (a stage, a combination, a weak spot).
        checks: what the test checks, one sentence.
        why: why it matters, one sentence.
        templates: the conversations' templates (see the module docstring).
        contrast: for a grooming test, the id of its benign contrast test.
        filler: small-talk pairs around the template: ``short`` (one to three) or ``long``
            (the template's lines scattered through 24 to 32 messages of small talk).
    """

    id: str
    label: int
    capability: str
    checks: str
    why: str
    templates: tuple[str, ...]
    contrast: str | None = None
    filler: str = "short"


def _t(*lines: str) -> str:
    return "\n".join(lines)


def _pair(
    grooming: str,
    benign: str,
    capability: str,
    checks: tuple[str, str],
    why: tuple[str, str],
    templates: tuple[tuple[str, ...], tuple[str, ...]],
    filler: str = "short",
) -> tuple[FunctionalTest, FunctionalTest]:
    return (
        FunctionalTest(grooming, 1, capability, checks[0], why[0], templates[0], benign, filler),
        FunctionalTest(benign, 0, capability, checks[1], why[1], templates[1], None, filler),
    )


_PAIRS = (
    _pair(
        "flattery_rapport",
        "coach_praise",
        "rapport and flattery",
        (
            "an adult who flatters a child as special and mature and says only he understands "
            "them is flagged",
            "a coach praising a player's effort in front of the team is not flagged",
        ),
        (
            "flattery that singles a child out is how trust is built before anything else",
            "praise from a trusted adult is everyday and shares the words (amazing, special)",
        ),
        (
            (
                _t(
                    "a: you are honestly so mature for {age}, not like other kids | compliments",
                    "b: haha thanks i guess",
                    "a: i mean it {name}, youre special. i feel like i really get you "
                    "| compliments,exclusivity",
                    "b: my mum says im immature lol",
                    "a: she doesnt see you the way i do | exclusivity",
                ),
                _t(
                    "a: you're way smarter than people your age {name} | compliments",
                    "b: lol no",
                    "a: seriously, talking to you is the best part of my day "
                    "| compliments,exclusivity",
                    "b: aw ok",
                    "a: most people dont understand you like i do | exclusivity",
                ),
                _t(
                    "a: i love talking to you {name}, youre so grown up | compliments",
                    "b: lol ok",
                    "a: honestly youre cooler than anyone at your school i bet | compliments",
                    "b: haha no",
                    "a: you deserve someone who really appreciates you, like me | exclusivity",
                ),
            ),
            (
                _t(
                    "a: you were amazing at {sport} today {name}, so proud of the effort",
                    "b: haha thanks coach",
                    "a: i mean it, youre a special player. the whole team saw it",
                    "b: my mum said i was rubbish in the first half lol",
                    "a: tell her from me you were the best on the pitch today",
                ),
                _t(
                    "a: great session today {name}, youve really improved at {sport}",
                    "b: thanks!",
                    "a: seriously, youre one of the hardest workers in the squad",
                    "b: aw ok",
                    "a: ill tell everyone at training on {day}, well done",
                ),
                _t(
                    "a: loved watching your {sport} today {name}, youre so grown up on the pitch",
                    "b: lol ok",
                    "a: honestly youre the best captain the club has had",
                    "b: haha no",
                    "a: you deserve the player of the month award, ill tell the committee",
                ),
            ),
        ),
    ),
    _pair(
        "age_probing",
        "teens_compare_ages",
        "age probing",
        (
            "an adult stranger asking a child's age, year and school is flagged",
            "two teenagers comparing their ages and years is not flagged",
        ),
        (
            "groomers check a child's age early to choose their approach",
            "teens ask each other's age all the time; the question alone means nothing",
        ),
        (
            (
                _t(
                    "a: so how old are you {name}? | personal_info",
                    "b: {age}",
                    "a: cool, what year are you in? which school? | personal_info",
                    "b: year 8, why",
                    "a: just curious, im {adult_age} but age is just a number right | rapport",
                ),
                _t(
                    "a: wait you sound young, how old r u | personal_info",
                    "b: {age} why",
                    "a: nice, and what school do you go to? | personal_info",
                    "b: the one near {place}",
                    "a: cool cool, i wont tell anyone how old you are lol | secrecy",
                ),
                _t(
                    "a: what grade are you in {name}? | personal_info",
                    "b: 7th",
                    "a: oh so like {age}? | personal_info",
                    "b: yeah",
                    "a: nice, do you have your own phone or is it your mums "
                    "| personal_info,risk_check",
                ),
            ),
            (
                _t(
                    "a: so how old are you {name}?",
                    "b: {teen_age}",
                    "a: no way same, what year are you in?",
                    "b: year 10, you?",
                    "a: year 10 too, we should be in the same maths set lol",
                ),
                _t(
                    "a: wait how old r u, you play {game} like a pro",
                    "b: {teen_age} why",
                    "a: im {teen_age} too lol what school",
                    "b: the one near {place}",
                    "a: cool my cousin goes there",
                ),
                _t(
                    "a: what grade are you in {name}?",
                    "b: 10th",
                    "a: oh so like {teen_age}? same",
                    "b: yeah",
                    "a: nice, do you have your own phone or is it your mums, mine is my "
                    "brothers old one",
                ),
            ),
        ),
    ),
    _pair(
        "parent_check",
        "neighbour_parcel",
        "checking for parents",
        (
            "an adult asking a child whether parents are home or check the phone is flagged",
            "a neighbour asking whether a parent is home to take in a parcel is not flagged",
        ),
        (
            "groomers check for supervision before escalating (a risk check)",
            "asking if a parent is home is usually a practical question",
        ),
        (
            (
                _t(
                    "a: are your parents home right now? | risk_check",
                    "b: no mum is at work til 6",
                    "a: nice. does she ever look at your phone? | risk_check",
                    "b: sometimes why",
                    "a: just wondering, better if its just us talking | exclusivity",
                ),
                _t(
                    "a: is anyone else home with you {name}? | risk_check",
                    "b: just me and the {pet}",
                    "a: good. do your parents check who you message? | risk_check",
                    "b: not really",
                    "a: cool, keep it that way | secrecy",
                ),
                _t(
                    "a: what time do your parents get home | risk_check",
                    "b: like 7",
                    "a: so you're alone til then? | risk_check",
                    "b: yeah",
                    "a: perfect, message me when theyre out | risk_check,secrecy",
                ),
            ),
            (
                _t(
                    "a: hi {name}, are your parents home right now?",
                    "b: no mum is at work til 6",
                    "a: ok, a parcel for her came to mine by mistake",
                    "b: oh ok",
                    "a: ill drop it round after 6 then, tell her it's from {adult} next door",
                ),
                _t(
                    "a: hi {name}, is anyone home with you? its {adult} from next door",
                    "b: just me and the {pet}",
                    "a: ok, can you tell your dad his parcel is at mine",
                    "b: will do",
                    "a: thanks, no rush",
                ),
                _t(
                    "a: what time do your parents get home, its {adult} from number 12",
                    "b: like 7",
                    "a: so you're on your own til then? ill pop round for the key after",
                    "b: yeah",
                    "a: perfect, tell them i fed the {pet}",
                ),
            ),
        ),
    ),
    _pair(
        "secrecy",
        "surprise_party",
        "secrecy",
        (
            "an adult telling a child to keep their chats secret from parents is flagged",
            "a parent asking a child to keep a surprise party secret is not flagged",
        ),
        (
            "secrecy requests cut a child off from the adults who would protect them",
            "families keep happy secrets (parties, presents) with the same words",
        ),
        (
            (
                _t(
                    "a: dont tell your mum we talk ok? | secrecy",
                    "b: why not",
                    "a: she wouldnt get it. this is just our secret | secrecy,exclusivity",
                    "b: ok i guess",
                    "a: and delete the messages after, promise? | secrecy",
                ),
                _t(
                    "a: this stays between us {name} | secrecy",
                    "b: what does",
                    "a: us chatting. people would make it weird | secrecy,isolation",
                    "b: ok",
                    "a: so dont mention me at home ok | secrecy",
                ),
                _t(
                    "a: can you keep a secret {name}? | secrecy",
                    "b: yeah why",
                    "a: dont show anyone our chats, not even your best friend | secrecy,isolation",
                    "b: ok",
                    "a: if your mum asks, say im someone from school | secrecy",
                ),
            ),
            (
                _t(
                    "a: dont tell your mum about saturday ok?",
                    "b: why not",
                    "a: its a surprise party for her birthday, our secret",
                    "b: ok i wont!!",
                    "a: and hide the cake in your room, promise?",
                ),
                _t(
                    "a: this stays between us {name}",
                    "b: what does",
                    "a: dads present. we got him {gift}",
                    "b: ok",
                    "a: so dont mention it at home til sunday ok",
                ),
                _t(
                    "a: can you keep a secret {name}?",
                    "b: yeah why",
                    "a: we're taking grandma to {place} for her birthday, dont tell her",
                    "b: ok",
                    "a: if she asks, say were just going shopping",
                ),
            ),
        ),
    ),
    _pair(
        "isolation",
        "sibling_support",
        "isolation",
        (
            "an adult telling a child that friends and family don't understand them and only he "
            "does is flagged",
            "a sibling telling a child not to let unkind friends get them down is not flagged",
        ),
        (
            "isolating a child from friends and family makes the groomer their only confidant",
            "support after a falling-out uses the same words about friends",
        ),
        (
            (
                _t(
                    "b: my friends are being so annoying",
                    "a: honestly they dont get you like i do | isolation,exclusivity",
                    "b: maybe",
                    "a: you dont need them {name}, you have me | isolation",
                    "b: yeah",
                    "a: and your parents wouldnt understand either, just talk to me | isolation",
                ),
                _t(
                    "b: had a fight with my mum",
                    "a: she never listens to you does she | isolation",
                    "b: not really",
                    "a: you can always tell me instead, im the only one who gets it "
                    "| isolation,exclusivity",
                    "b: ok",
                    "a: dont bother with your friends about it either | isolation",
                ),
                _t(
                    "b: nobody at school talks to me",
                    "a: they're not worth it, you're better off with just me "
                    "| isolation,exclusivity",
                    "b: maybe",
                    "a: your family doesnt understand you either do they | isolation",
                    "b: not really",
                    "a: thats why you should only trust me | isolation,exclusivity",
                ),
            ),
            (
                _t(
                    "b: my friends are being so annoying",
                    "a: dont let them get you down, they'll come round",
                    "b: maybe",
                    "a: you've got other mates too {name}, and you've got me",
                    "b: yeah",
                    "a: talk to mum tonight as well, she always helps",
                ),
                _t(
                    "b: had a fight with my mum",
                    "a: about the phone thing again?",
                    "b: yeah",
                    "a: she'll calm down, tell her how you feel when she's less stressed",
                    "b: ok",
                    "a: and talk to your friends, they'll get it",
                ),
                _t(
                    "b: nobody at school talks to me",
                    "a: they're missing out, you're great, and you've got me and mum",
                    "b: maybe",
                    "a: your family is always here for you, you know that",
                    "b: i guess",
                    "a: maybe join {sport} club, you'll make new friends there",
                ),
            ),
        ),
    ),
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
    _pair(
        "romance_with_minor",
        "adults_flirting",
        "rapport and flattery",
        (
            "an adult flirting with someone who said they are a child is flagged",
            "two adults flirting and planning a date is not flagged",
        ),
        (
            "a stated age turns flirting into grooming; a detector must read it",
            "adults flirt on the same apps with the same words",
        ),
        (
            (
                _t(
                    "b: im {age} btw | personal_info",
                    "a: you seem way older, i really like you | compliments",
                    "b: lol thanks",
                    "a: i think im falling for you {name} | exclusivity,compliments",
                    "b: omg",
                    "a: wish i could take you out somewhere | approach",
                ),
                _t(
                    "b: i'm only {age} you know | personal_info",
                    "a: age doesnt matter, you're so mature | compliments",
                    "b: haha",
                    "a: be my girlfriend? our secret | exclusivity,secrecy",
                    "b: idk",
                    "a: we could go on a date at {place} | approach",
                ),
                _t(
                    "b: im in year 8 | personal_info",
                    "a: you dont act like it, youre so mature | compliments",
                    "b: lol",
                    "a: i think we have something special {name} | exclusivity",
                    "b: really?",
                    "a: one day we can be together properly, just wait | approach,exclusivity",
                ),
            ),
            (
                _t(
                    "b: im {adult_age} btw",
                    "a: same age as me, i really like you",
                    "b: lol thanks",
                    "a: i think im falling for you {name}",
                    "b: omg",
                    "a: let me take you out for dinner",
                ),
                _t(
                    "b: i'm {adult_age} and work in an office, you know",
                    "a: me too, you're so fun",
                    "b: haha",
                    "a: fancy a date? {day}?",
                    "b: sure",
                    "a: drinks at the bar by {place} then",
                ),
                _t(
                    "b: im a nurse on nights",
                    "a: you dont act like it, youre so fun",
                    "b: lol",
                    "a: i think we have something special {name}",
                    "b: really?",
                    "a: lets get coffee on {day} after your shift",
                ),
            ),
        ),
    ),
    _pair(
        "combo_fast",
        "safety_counselling",
        "stage combinations",
        (
            "an adult who moves from age to secrecy to another app to meeting within a few "
            "messages is flagged",
            "a counsellor explaining these same warning signs to a child is not flagged",
        ),
        (
            "fast grooming compresses the stages into minutes",
            "online-safety lessons name every stage, and a detector must not flag them",
        ),
        (
            (
                _t(
                    "a: how old are you? | personal_info",
                    "b: {age}",
                    "a: cool. keep our chats secret yeah | secrecy",
                    "b: ok",
                    "a: add me on {app} | platform_move",
                    "b: done",
                    "a: meet me at {place} {day}, come alone | approach,isolation",
                ),
                _t(
                    "a: wait how old are you | personal_info",
                    "b: {age}",
                    "a: dont tell anyone we talk | secrecy",
                    "b: ok",
                    "a: whats your {app} | platform_move",
                    "b: why",
                    "a: so we can meet at {place} without anyone knowing | approach,secrecy",
                ),
            ),
            (
                _t(
                    "a: sometimes people online ask how old you are",
                    "b: yeah",
                    "a: then they ask you to keep chats secret, or add them on {app}",
                    "b: ok",
                    "a: and sometimes to meet at somewhere like {place}",
                    "b: thats creepy",
                    "a: so if anyone does, tell me or your mum straight away {name}",
                ),
                _t(
                    "a: in the assembly we talked about people online who ask how old you are",
                    "b: yeah",
                    "a: or who say dont tell anyone we talk",
                    "b: ok",
                    "a: or ask for your {app}",
                    "b: why",
                    "a: or ask to meet at {place} without anyone knowing. always tell a "
                    "trusted adult",
                ),
            ),
        ),
    ),
    _pair(
        "combo_slow",
        "mentor_over_days",
        "stage combinations",
        (
            "grooming spread over several days, one small step per day, is flagged",
            "a mentor chatting over several days about homework and clubs is not flagged",
        ),
        (
            "slow grooming hides each step in days of ordinary talk; per-message scores miss it",
            "long, friendly conversations with a trusted adult are common",
        ),
        (
            (
                _t(
                    "a: hey {name}, how was your day | rapport",
                    "b: ok, {subject} test",
                    "a: youre so clever, im sure you did great | compliments",
                    "~",
                    "a: are your parents around much in the evenings? | risk_check",
                    "b: not really they work late",
                    "~",
                    "a: lets keep our chats just between us | secrecy",
                    "b: ok",
                    "~",
                    "a: add me on {app}, its easier | platform_move",
                    "b: ok",
                ),
                _t(
                    "a: hey {name} saw your post about {game} | rapport",
                    "b: lol yeah",
                    "~",
                    "a: how old are you btw | personal_info",
                    "b: {age}",
                    "~",
                    "a: i got you some {currency} | gifts",
                    "b: thanks!!",
                    "~",
                    "a: dont tell your parents about me ok | secrecy",
                    "b: ok",
                ),
            ),
            (
                _t(
                    "a: hey {name}, how was your day",
                    "b: ok, {subject} test",
                    "a: youve worked hard, im sure you did great",
                    "~",
                    "a: are you coming to {sport} club this week?",
                    "b: yeah on {day}",
                    "~",
                    "a: remember to bring the permission slip for your parents",
                    "b: ok",
                    "~",
                    "a: the club group is on {app} now, your mum has the link",
                    "b: ok",
                ),
                _t(
                    "a: hey {name} saw your post about {game}",
                    "b: lol yeah",
                    "~",
                    "a: how was the {subject} homework",
                    "b: done",
                    "~",
                    "a: the club got some {currency} prizes for the tournament",
                    "b: nice!!",
                    "~",
                    "a: tell your parents about the tournament on {day}",
                    "b: ok",
                ),
            ),
        ),
    ),
    _pair(
        "coded_language",
        "inside_jokes",
        "indirect and coded language",
        (
            "grooming in indirect words (our thing, the usual, you know what i mean) is flagged",
            "friends' inside jokes and game slang in the same words are not flagged",
        ),
        (
            "groomers avoid the words filters look for",
            "indirect talk is ordinary between friends",
        ),
        (
            (
                _t(
                    "a: remember our little thing {name} | secrecy,exclusivity",
                    "b: yeah",
                    "a: no one else gets to know, you know what i mean | secrecy",
                    "b: ok",
                    "a: the usual place, {day}, dont bring anyone | approach,isolation",
                ),
                _t(
                    "a: you know the other app i mentioned | platform_move",
                    "b: yeah",
                    "a: go there now, clear this one after | platform_move,secrecy",
                    "b: why",
                    "a: people here wouldnt understand us 🤫 | secrecy,exclusivity",
                ),
                _t(
                    "a: you know what we talked about {name} | secrecy",
                    "b: yeah",
                    "a: still up for it? usual time | approach",
                    "b: i think so",
                    "a: remember, you never heard of me 🤫 | secrecy",
                ),
            ),
            (
                _t(
                    "a: remember our little thing from {sport} lol",
                    "b: yeah",
                    "a: the chant, you know what i mean, the whole team does it now",
                    "b: ok lol",
                    "a: the usual place, {day}, bring everyone",
                ),
                _t(
                    "a: you know the other map i mentioned in {game}",
                    "b: yeah",
                    "a: go there now, clear this round after",
                    "b: why",
                    "a: noobs here wouldnt understand the strat 🤫",
                ),
                _t(
                    "a: you know what we talked about in {subject} lol",
                    "b: yeah",
                    "a: still up for the prank? usual time",
                    "b: i think so",
                    "a: remember, act normal when sir walks in 🤫",
                ),
            ),
        ),
    ),
    _pair(
        "hidden_in_long_chat",
        "long_benign_chat",
        "grooming hidden in long benign chats",
        (
            "three grooming messages scattered through a long friendly chat are flagged",
            "a long friendly chat with the same small talk and benign asides is not flagged",
        ),
        (
            "a detector that averages over a long chat dilutes the few messages that matter",
            "long chats are most chats; a detector must not flag them for being long",
        ),
        (
            (
                _t(
                    "a: dont tell anyone we talk ok | secrecy",
                    "a: do your parents check your phone | risk_check",
                    "a: we should meet at {place} {day}, just us | approach,exclusivity",
                ),
                _t(
                    "a: how old are you again | personal_info",
                    "a: add me on {app}, its private | platform_move,secrecy",
                    "a: send a pic of you, just for me | image_request,exclusivity",
                ),
                _t(
                    "a: your parents asleep yet | risk_check",
                    "a: delete our chats tonight ok | secrecy",
                    "a: i could pick you up from {place} tomorrow, just us | approach,exclusivity",
                ),
            ),
            (
                _t(
                    "a: dont tell anyone the ending of {show} ok",
                    "a: do your parents watch it too",
                    "a: we should watch the next one at {place} {day} with everyone",
                ),
                _t(
                    "a: how old is your {pet} again",
                    "a: add me on {app}, the class group is there",
                    "a: send a pic of your {pet}, so cute",
                ),
                _t(
                    "a: your parents watching the match yet",
                    "a: delete that meme from the group, its too cringe",
                    "a: i could pick you up from {place} tomorrow with your brother",
                ),
            ),
        ),
        filler="long",
    ),
)

#: Every functional test of GroomCheck v1, grooming tests each followed by its contrast.
TESTS: tuple[FunctionalTest, ...] = tuple(test for pair in _PAIRS for test in pair)
#: Test id → test.
BY_ID: dict[str, FunctionalTest] = {test.id: test for test in TESTS}
