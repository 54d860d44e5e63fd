"""Benign phrase banks: filler, small talk, and each ordinary relationship's everyday lines.

Groomers draw their rapport lines from the same small-talk banks as benign speakers, so rapport
alone never separates the classes. Lines here carry no stage labels.
"""

from __future__ import annotations

from .templates import Template, parse_bank

FILLER = parse_bank("""
    lol
    haha
    ok
    k
    yeah
    ya
    omg
    brb
    idk
    lmao
    same
    nice
    cool
    wait what
    true
    fr
    bruh
    ikr
    hmm
    oh ok
    yep
    nah
    wbu
    ?
    back
    sorry was eating
    gtg soon
    hbu
    hahaha
    wow
    oh nice
    lol ok
    sorry my wifi died
    one sec
""")

#: Small talk that fits any pair of speakers.
GENERAL_TALK = parse_bank("""
    hey
    hi {name}
    heyy what's up
    hey how was your day
    what are you up to
    not much, you?
    just got home
    so bored rn
    it's raining again
    did you eat yet
    i'm so tired today
    what did you do this weekend
    what's your favorite food
    {food} obviously
    i could eat {food} every day
    that's so funny
    lol same
    haha yeah
    omg yes
    did you see the new {show} episode
    i'm watching {show} again
    have you heard the new {band} song
    what music do you like
    i love {band}
    my {pet} keeps following me around lol
    tell me about yourself
    what do you like to do for fun
    ok i'm back
    sorry i fell asleep lol
    good morning
    night!
    it's so hot today
    i'm so cold
""")

#: Small talk of children and teens (and of groomers building rapport with them).
YOUNG_TALK = parse_bank("""
    how was school today?
    i have so much homework
    school was so long today
    i have a {subject} test {day}
    what games do you play
    do you play {game}?
    i've been playing {game} all day
    wanna play {game} later
    i just lost a match lol
    we almost won that round
    what's your favorite {game} map
    i'm grounded lol
    my mom made me clean my room
    my brother is so annoying
    i have {sport} practice later
    i'm so bad at {subject}
    did you finish the {show} season
    my phone is at 3 percent
    i'm bored, entertain me lol
    who's your favorite youtuber
    i got a new skin in {game}
    do you have tiktok
    that video was so funny
    i can't wait for summer
    what are you doing for the holidays
    i stayed up so late gaming
""")

#: Small talk between adults.
ADULT_TALK = parse_bank("""
    how was work?
    work was crazy today
    i'm stuck in traffic
    are we still on for {day}?
    did you send {job}?
    my boss wants {job} by {day}
    can't wait for the weekend
    how's your mom doing?
    i started running again
    we should try that new {food} place
    the game last night was unreal
    i need a holiday
    did you see the news
    i have a dentist appointment at {time}
    my car is in the shop again
    how was the trip?
""")

TEEN_LINES = parse_bank("""
    did you finish the {subject} homework?
    what did you get on the test
    can you send me the {subject} notes
    are you going to {friend}'s party?
    omg did you see what happened at lunch
    wanna play {game} after school?
    my mom took my phone for a day lol
    i have practice till 5
    {friend} is so annoying today
    did you do the reading for {subject}
    is the project due {day}?
    let's sit together on the trip
    i can't find my charger anywhere
    the new {game} update is so good
    are you coming to {sport} {day}?
""")

PARENT_LINES = parse_bank("""
    what time will you be home?
    did you eat lunch?
    don't forget your {sport} bag
    i'll pick you up at {time}
    love you, have a good day
    please clean your room before dinner
    grandma is coming over {day}
    did you finish your homework?
    text me when you get to {friend}'s
    we're having {food} tonight
    take your jacket, it's cold
    your dentist appointment is {day} at {time}
    where are you? call me
    don't be late for dinner
""")
CHILD_TO_PARENT = parse_bank("""
    can i go to {friend}'s house?
    can you pick me up?
    i forgot my lunch
    can i have money for the school trip
    i'm at {friend}'s
    can {friend} sleep over {day}?
    i'll be home at {time}
    can we get {food} tonight
    i need a new {sport} bag
    love you too
    on my way
    i got a good grade in {subject}!
""")

TEACHER_LINES = parse_bank("""
    please hand in the essay by {day}
    remember to bring the field trip form
    great question, we'll go over it in class
    the {subject} quiz is moved to {day}
    please check the class page for the reading
    don't forget your calculator tomorrow
    the project groups are posted
    let me know if you need an extension
    office hours are {day} at {time}
    nice improvement on the last test
""")
STUDENT_LINES = parse_bank("""
    when is the {subject} project due?
    i was sick, what did i miss?
    can i hand it in {day}?
    which chapter do we need to read
    is the quiz open book?
    i can't open the file you posted
    thank you for the extra time
    do we need to print it
""")

COACH_LINES = parse_bank("""
    practice is moved to {time} on {day}
    bring water and your {sport} shoes
    the game {day} is at {place}
    team photos are next week
    make sure you stretch before practice
    good effort today everyone
    fees for the tournament are due {day}
    carpool list is on the team app
""")
ATHLETE_LINES = parse_bank("""
    what time is practice {day}?
    i can't come {day}, i have a {subject} test
    do we need our away jerseys?
    can my dad drive me to {place}?
    i hurt my ankle a bit
    are we playing in the tournament?
    thanks coach
""")

RELATIVE_LINES = parse_bank("""
    how's school going, sweetie?
    tell your mom i said hi
    we'll visit at thanksgiving
    grandpa says hello
    how was your {sport} game?
    i saw your drawing, it's lovely
    are you still playing {game}?
    call me this weekend ok
""")
CHILD_TO_RELATIVE = parse_bank("""
    school is good
    we won our game!
    hi grandma
    thanks for the card
    i miss you
    mom says hi back
    i got a {pet}!
    when are you coming to visit
""")

ADULT_LINES = parse_bank("""
    can you grab milk on the way home
    the meeting got moved to {time}
    did you book the table for {day}?
    happy birthday!!
    can you send me the photos from the trip
    the kids have {sport} at {time}
    i'll call you after work
    did the package arrive?
""")

GAMING_LINES = parse_bank("""
    gg
    nice shot
    wanna duo?
    that last round was crazy
    what rank are you
    i'm stuck on this level
    you're on my team next game
    join my server, it's {me}{amount}
    i'll carry you lol
    that boss is impossible
    did you get the new {game} update
    my team keeps losing lol
    one more game?
    lag is so bad rn
""")
SOCIAL_LINES = parse_bank("""
    i saw your post lol
    your video was so funny
    how do you edit your videos
    what song was that in your story
    how many followers do you have now
    you should post more
    that trend is so dumb lol
    did you see {friend}'s story
    i just hit 500 followers
""")
MENTOR_LINES = parse_bank("""
    how did the {subject} test go?
    i can help you with {subject} if you want
    i used to play {sport} too
    what do you want to be when you grow up
    that's a great goal
    keep working hard, it pays off
    did you practice today?
    how's {sport} going
""")

_PEERS = TEEN_LINES + GAMING_LINES + SOCIAL_LINES

#: Everyday lines by role pair; the generator looks these up by scenario.
ORDINARY: dict[str, tuple[tuple[Template, ...], tuple[Template, ...]]] = {
    "peers": (_PEERS, _PEERS),
    "parent_child": (PARENT_LINES, CHILD_TO_PARENT),
    "teacher_student": (TEACHER_LINES + MENTOR_LINES, STUDENT_LINES),
    "coach_student": (COACH_LINES + MENTOR_LINES, ATHLETE_LINES),
    "relative_child": (RELATIVE_LINES + MENTOR_LINES, CHILD_TO_RELATIVE),
    "adults": (ADULT_LINES + ADULT_TALK, ADULT_LINES + ADULT_TALK),
    "siblings": (TEEN_LINES + YOUNG_TALK, TEEN_LINES + YOUNG_TALK),
}
