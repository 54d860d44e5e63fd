"""Slot values that fill the phrase templates: names, games, apps, places, gifts.

Everything here is neutral vocabulary. A conversation draws one value per slot (see
:func:`conversation_slots`), so a chat stays consistent (one game, one app) while the corpus as a
whole varies. Lists are written as ``|``-separated text so the formatter keeps them compact.
"""

from __future__ import annotations

import random


def split_values(text: str) -> tuple[str, ...]:
    """Split ``|``-separated text into stripped, non-empty values.

    Examples:
        >>> split_values('''the mall | the park |
        ...     the library''')
        ('the mall', 'the park', 'the library')
    """
    return tuple(value.strip() for value in text.split("|") if value.strip())


NAMES = split_values("""
    Emma | Liam | Olivia | Noah | Ava | Elijah | Sophia | Lucas | Mia | Mason | Amelia |
    Ethan | Harper | Logan | Ella | Aiden | Chloe | Jayden | Zoe | Caleb | Lily | Ryan |
    Grace | Nathan | Aria | Dylan | Nora | Owen | Layla | Leo | Maya | Isaac | Ruby | Jack |
    Hannah | Tyler | Sara | Omar | Aisha | Mateo | Sofia | Diego | Priya | Arjun | Mei |
    Kenji | Yara | Malik | Fatima | Jonah | Ivy | Eli | Nina | Theo | Luna | Finn | Jade |
    Cole | Tessa | Max | Alex | Sam | Jordan | Riley | Casey | Jamie | Morgan | Quinn |
    Avery | Rowan | Kai | Zara | Amir | Lena | Marco | Rosa | Hugo | Elsa | Ben | Kate | Tom |
    Lucy | Dan | Beth | Mark | Anna | Chris | Julia | Paul | Laura
""")
#: Games and, at the same position, their in-game currency.
GAMES = split_values("""
    minecraft | fortnite | roblox | valorant | among us | rocket league | fifa | apex |
    overwatch | genshin | brawl stars | clash royale | mario kart | animal crossing |
    pokemon go | call of duty | league | stardew valley
""")
CURRENCIES = split_values("""
    minecoins | vbucks | robux | vp | stars | credits | fifa points | apex coins | coins |
    primogems | gems | gems | coins | bells | pokecoins | cod points | rp | gold
""")
#: Apps a chat moves to (grooming platform moves and ordinary ones alike).
APPS = split_values("""
    snapchat | whatsapp | discord | kik | telegram | instagram | signal | skype | messenger |
    wickr | line | viber
""")
#: Voice apps gaming friends move to.
VOICE_APPS = split_values("discord | discord | discord | teamspeak | skype | the party chat")
PLACES = split_values("""
    the mall | the park | the library | mcdonalds | the skate park | the cinema | starbucks |
    the bowling alley | the bus station | the food court | the arcade | subway | the pool |
    the gym | the community center | the train station
""")
TOWNS = split_values("""
    springfield | riverside | fairview | georgetown | madison | franklin | clinton | ashland |
    oakwood | lakeside | milton | kingston | bristol | dover | salem | newport | chester |
    hudson | marion | greenville
""")
DAYS = split_values("""
    monday | tuesday | wednesday | thursday | friday | saturday | sunday | this weekend |
    tomorrow | friday night | next week | saturday morning
""")
TIMES = split_values("3:30 | 4 | 5 | 6pm | noon | 10am | 7 | 4:15 | 2 | half 5 | 11")
CARDS = split_values("""
    amazon | steam | xbox | playstation | itunes | roblox | google play | nintendo | spotify |
    target
""")
GIFTS = split_values("""
    a new headset | a skin | the battle pass | a gift card | a new controller |
    some game credit | a hoodie | a nintendo card | new earbuds | a phone case
""")
SUBJECTS = split_values("""
    math | science | history | english | spanish | art | geography | french | biology | music
""")
SPORTS = split_values("""
    soccer | basketball | swimming | volleyball | hockey | track | tennis | gymnastics |
    baseball | football | dance | karate
""")
SHOWS = split_values("""
    stranger things | wednesday | one piece | naruto | spongebob | the office | bluey |
    avatar | the simpsons | demon slayer | gravity falls | friends
""")
BANDS = split_values("""
    taylor swift | billie eilish | bts | olivia rodrigo | drake | the weeknd | ed sheeran |
    ariana grande | imagine dragons | dua lipa | sza | coldplay
""")
PETS = split_values("dog | cat | hamster | bird | bunny | puppy | guinea pig")
MONTHS = split_values("""
    january | february | march | april | may | june | july | august | september | october |
    november | december
""")
FOODS = split_values("pizza | tacos | pasta | sushi | burgers | noodles | curry | pancakes")
JOBS = split_values("the report | the slides | the invoice | the budget | the contract | the rota")
SCHOOL_KINDS = split_values("middle | middle school | elementary | junior high | high")
AMOUNTS = split_values("500 | 1000 | 800 | 2000 | 400 | 1200 | 50 | 100")


def _pick(rng: random.Random, values: tuple[str, ...]) -> str:
    return values[int(rng.random() * len(values))]


def grade_of(age: int) -> str:
    """Return a school grade word for ``age`` (US style, 10 → "5th").

    Examples:
        >>> grade_of(10), grade_of(13), grade_of(15)
        ('5th', '8th', '10th')
    """
    grade = max(1, min(12, age - 5))
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(grade, "th")
    return f"{grade}{suffix}"


def conversation_slots(rng: random.Random) -> dict[str, str]:
    """Draw the slot values shared by both speakers of one conversation."""
    game = int(rng.random() * len(GAMES))
    return {
        "game": GAMES[game],
        "currency": CURRENCIES[game],
        "app": _pick(rng, APPS),
        "voice": _pick(rng, VOICE_APPS),
        "place": _pick(rng, PLACES),
        "day": _pick(rng, DAYS),
        "time": _pick(rng, TIMES),
        "card": _pick(rng, CARDS),
        "gift": _pick(rng, GIFTS),
        "subject": _pick(rng, SUBJECTS),
        "sport": _pick(rng, SPORTS),
        "show": _pick(rng, SHOWS),
        "band": _pick(rng, BANDS),
        "pet": _pick(rng, PETS),
        "month": _pick(rng, MONTHS),
        "food": _pick(rng, FOODS),
        "job": _pick(rng, JOBS),
        "amount": _pick(rng, AMOUNTS),
        "friend": _pick(rng, NAMES),
    }


def pick_name(rng: random.Random) -> str:
    """Return a random first name."""
    return _pick(rng, NAMES)


def pick_town(rng: random.Random) -> str:
    """Return a random town name."""
    return _pick(rng, TOWNS)


def school_name(rng: random.Random, town: str) -> str:
    """Return a school name in ``town``."""
    return f"{town} {_pick(rng, SCHOOL_KINDS)}"
