"""GroomCheck's slots: the neutral words a case template is filled with.

Each slot is a ``{name}`` in a template (:mod:`benchmarks.corpora.groomcheck.tests`) and one
list below. A case draws one value per slot, seeded, and a grooming case and its contrast case
draw the same values, so that the pair shares its surface. The lists are GroomCheck's own (not
the synthetic corpus's vocabulary): changing the synthetic corpus never changes GroomCheck.
Every value is checked against the content blocklist by the tests.
"""

from __future__ import annotations

#: Slot name → values, with what the slot stands for.
SLOTS: dict[str, tuple[str, ...]] = {
    # The younger person's first name (children, teens, the adult's date in adult tests).
    "name": (
        "sam",
        "alex",
        "jo",
        "mia",
        "leo",
        "ava",
        "noah",
        "ella",
        "kai",
        "zoe",
        "finn",
        "lily",
        "max",
        "ruby",
        "omar",
        "isla",
        "theo",
        "nina",
        "jay",
        "evie",
    ),
    # The older person's first name.
    "adult": (
        "dan",
        "chris",
        "mark",
        "lee",
        "rob",
        "steve",
        "paul",
        "tom",
        "jen",
        "kate",
        "mike",
        "andy",
        "rich",
        "gary",
        "sara",
        "nick",
    ),
    "game": (
        "fortnite",
        "minecraft",
        "roblox",
        "rocket league",
        "among us",
        "valorant",
        "apex",
        "fifa",
        "overwatch",
        "animal crossing",
    ),
    # A chat app other than the one the conversation is on.
    "app": ("snapchat", "whatsapp", "discord", "instagram", "telegram", "kik"),
    "video_app": ("facetime", "zoom", "google meet", "skype", "duo"),
    "place": (
        "the park",
        "the mall",
        "the library",
        "the skate park",
        "the cinema",
        "the station",
        "the leisure centre",
        "the shops by the bridge",
    ),
    "day": ("saturday", "sunday", "friday", "tomorrow", "thursday"),
    "time": ("4", "5", "3:30", "noon", "6", "half 4"),
    "gift": (
        "a gift card",
        "new headphones",
        "a phone case",
        "a hoodie",
        "a new controller",
        "trainers",
        "a game skin",
    ),
    "amount": ("20", "25", "30", "50", "15", "40"),
    "currency": ("v-bucks", "robux", "coins", "gems", "credits"),
    "age": ("11", "12", "13", "14"),
    "teen_age": ("13", "14", "15", "16"),
    "adult_age": ("24", "27", "31", "35", "38", "42"),
    "sport": ("football", "netball", "swimming", "basketball", "hockey", "athletics"),
    "subject": ("maths", "science", "history", "french", "english", "geography"),
    "relative": ("aunt", "uncle", "grandma", "grandad", "cousin"),
    "handle": ("sam_22", "skyline07", "jo.plays", "m1ghty_k", "pixel_fox", "blue.wave9"),
    "show": ("stranger things", "the voice", "bake off", "wednesday", "bluey"),
    "pet": ("dog", "cat", "hamster", "rabbit", "puppy"),
}
