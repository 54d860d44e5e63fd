"""Version 2's dialogue: small-talk questions get relevant answers, and chats call back.

In version 1 a small-talk question ("what music do you like") was answered by any line of the
bank ("my {pet} keeps following me around lol"). Version 2 links each question below to a bank
of answers that fit it, drawn by the other speaker next (the mechanism reply banks already use
for the groomer's probes), and lets either speaker return, later in the chat, to a topic of
the conversation ("still playing {game}?": the slots are the conversation's own, so it is the
same game). A topic can run over several turns: after an answer, the one who asked may follow
up on the same topic (:data:`FOLLOW_UPS`: "what mode do you play" after the games they play,
"which part was hardest" after the test), and that question gets its own answers, so a thread
of question, answer, follow-up and answer unfolds. Invitations ("wanna play {game} after
school?") are answered by acceptance or refusal. Both classes use all of it in the same way:
they make chats read as chats, not as a label cue. Version 1 never reads this module, so its
output is unchanged.
"""

from __future__ import annotations

from .templates import Template, parse_bank

#: Small-talk question (its exact template text) → the answer bank's key.
QUESTIONS: dict[str, str] = {
    "what are you up to": "a_doing",
    "did you eat yet": "a_eat",
    "what did you do this weekend": "a_weekend",
    "what's your favorite food": "a_food",
    "did you see the new {show} episode": "a_show",
    "did you finish the {show} season": "a_show",
    "have you heard the new {band} song": "a_song",
    "what music do you like": "a_music",
    "tell me about yourself": "a_about",
    "what do you like to do for fun": "a_fun",
    "how was school today?": "a_school_day",
    "what games do you play": "a_games",
    "do you play {game}?": "a_play",
    "what are you doing for the holidays": "a_holidays",
    "how was work?": "a_work",
    "how was the trip?": "a_trip",
    "did you finish the {subject} homework?": "a_homework",
    "did you finish your homework?": "a_homework",
    "what did you get on the test": "a_test",
    "how did the {subject} test go?": "a_test",
    "wanna play {game} after school?": "a_invite",
    "wanna duo?": "a_invite",
    "one more game?": "a_invite",
    "what rank are you": "a_rank",
    "how do you edit your videos": "a_edit",
    "what do you want to be when you grow up": "a_future",
    "what time will you be home?": "a_home_time",
    "did you eat lunch?": "a_eat",
    "did the package arrive?": "a_package",
    # Follow-ups (FOLLOW_UPS): the same topic, one turn further.
    "what mode do you play": "a_mode",
    "who do you play with": "a_who_play",
    "what's your main": "a_main",
    "who's your favourite character": "a_character",
    "is it worth watching": "a_worth",
    "which part was hardest": "a_hardest",
    "is your teacher nice at least": "a_teacher",
    "who did you go with": "a_who_with",
    "what was the best bit": "a_best_bit",
    "did you make it yourself": "a_cook",
    "how long have you been doing that": "a_how_long",
    "when do you finish": "a_finish",
}

ANSWERS: dict[str, tuple[Template, ...]] = {
    key: parse_bank(block)
    for key, block in {
        "a_doing": """
            not much, you?
            just homework
            watching {show}
            playing {game} lol
            lying on the sofa doing nothing
            cleaning my room ugh
        """,
        "a_eat": """
            yeah i had {food}
            not yet, starving
            ate like an hour ago
            just some cereal lol
        """,
        "a_weekend": """
            nothing much, slept a lot
            went to {place} with my family
            played {game} all saturday
            had {sport} on sunday
        """,
        "a_food": """
            {food} obviously
            probably {food}
            anything with cheese lol
            i can't choose
        """,
        "a_show": """
            yes!! the ending tho
            not yet no spoilers
            i'm halfway through
            i stopped watching it
        """,
        "a_song": """
            yeah it's so good
            not yet is it good?
            i've had it on repeat
            it's ok i like the old ones more
        """,
        "a_music": """
            mostly {band}
            a bit of everything
            whatever's on my playlist
            {band} and some old stuff
        """,
        "a_about": """
            idk i like {game} and {show}
            not much to tell lol
            i have a {pet} and i like {sport}
            i'm kind of boring haha
        """,
        "a_fun": """
            {sport} mostly
            gaming and drawing
            hanging out with friends
            watching {show} lol
        """,
        "a_school_day": """
            boring as usual
            ok, we had a quiz
            long, i'm so tired
            fine, lunch was good
        """,
        "a_games": """
            {game} mostly
            a lot of {game}
            whatever my friends play
            not much lately
        """,
        "a_play": """
            yeah all the time
            sometimes
            i used to
            no what's it like
        """,
        "a_holidays": """
            visiting my grandparents
            staying home probably
            going to {place}
            no plans yet
        """,
        "a_work": """
            long day, you?
            fine, lots of meetings
            busy but ok
            don't ask lol
        """,
        "a_trip": """
            really nice, i'll show you photos of the view
            long drive but worth it
            too short
            it rained the whole time
        """,
        "a_homework": """
            almost done
            not yet, it's so long
            yeah finally
            i forgot about it oops
        """,
        "a_test": """
            better than i thought
            not great lol
            we don't get it back till {day}
            i think i passed
        """,
        "a_invite": """
            sure, give me 5 min
            can't right now, later?
            ok one more
            i'm done for today
        """,
        "a_rank": """
            gold lol
            still stuck in silver
            diamond finally
            i don't play ranked
        """,
        "a_edit": """
            just the app's editor
            my friend showed me
            capcut mostly
            trial and error lol
        """,
        "a_future": """
            maybe a vet
            no idea yet
            something with animals
            a game designer
        """,
        "a_home_time": """
            around 6
            after {sport}, like 7
            soon, on the bus
            can i stay at {friend}'s till 8?
        """,
        "a_package": """
            yes it's here
            not yet
            it came this morning
            they said tomorrow
        """,
        "a_mode": """
            mostly the normal mode
            whatever my friends pick
            creative lol
            ranked when i'm feeling brave
        """,
        "a_who_play": """
            my cousin mostly
            people from school
            randoms lol
            on my own usually
        """,
        "a_main": """
            i switch a lot
            the healer one lol
            whoever's strongest this season
            don't have one yet
        """,
        "a_character": """
            the quiet one obviously
            idk they're all good
            the villain tbh
            the little brother lol
        """,
        "a_worth": """
            yeah defo
            the first season is better
            it gets good after episode 3
            meh it's ok
        """,
        "a_hardest": """
            the last question
            all of it lol
            the long answer bit
            the graphs
        """,
        "a_teacher": """
            she's ok
            he's strict but fine
            we have a sub this week
            not really lol
        """,
        "a_who_with": """
            my mum and my sister
            the whole family
            a friend from school
            my grandparents
        """,
        "a_best_bit": """
            the food lol
            the beach
            sleeping in
            seeing my cousins
        """,
        "a_cook": """
            my dad did
            yeah kind of
            no it was a takeaway
            microwave counts right
        """,
        "a_how_long": """
            like two years
            since i was little
            only a few months
            forever lol
        """,
        "a_finish": """
            around 5
            late again
            soon hopefully
            not till friday
        """,
    }.items()
}

#: After an answer from a bank (the key), the one who asked may follow up from this bank:
#: questions on the same topic, themselves in QUESTIONS with answers of their own.
FOLLOW_UPS: dict[str, tuple[Template, ...]] = {
    key: parse_bank(block)
    for key, block in {
        "a_games": """
            what mode do you play
            who do you play with
        """,
        "a_play": """
            what mode do you play
            who do you play with
        """,
        "a_rank": """
            what's your main
            who do you play with
        """,
        "a_show": """
            who's your favourite character
            is it worth watching
        """,
        "a_test": """
            which part was hardest
            is your teacher nice at least
        """,
        "a_homework": """
            which part was hardest
            is your teacher nice at least
        """,
        "a_school_day": """
            is your teacher nice at least
        """,
        "a_weekend": """
            who did you go with
            what was the best bit
        """,
        "a_holidays": """
            who did you go with
            what was the best bit
        """,
        "a_trip": """
            who did you go with
            what was the best bit
        """,
        "a_eat": """
            did you make it yourself
        """,
        "a_food": """
            did you make it yourself
        """,
        "a_fun": """
            how long have you been doing that
        """,
        "a_about": """
            how long have you been doing that
        """,
        "a_work": """
            when do you finish
        """,
    }.items()
}

#: Lines that return to a topic of the conversation (its own slots): either speaker, later.
CALLBACKS: tuple[Template, ...] = parse_bank("""
    so did you finish {show} yet
    still playing {game}?
    how did the {subject} thing go
    did your {pet} calm down lol
    are you still going to {place} {day}?
    did you end up getting {food}
    wait did you ever listen to that {band} song
    how was {sport} in the end
""")
