"""Speed and memory benchmark of the PAN12 loader (issue 3; figures go in the README).

Writes a PAN12-format test split of neutral text (seeded; 155,128 conversations, about 2
million messages) into a temporary folder, then measures:

  a. a bare ``xml.etree.ElementTree.iterparse`` pass over the XML, counting messages;
  p. the loader's parse alone (records built, nothing written), to attribute the time;
  b. the first ``load_pan12`` (parse + build + Arrow cache), in a child process;
  c. a cached reload in the same child;
  d. the child's peak resident memory over (b) and (c).

Goals: b <= 3 x a; c < 5 s; d < 1.5 GB. Prints one JSON object.

    python scripts/bench_pan12.py [--conversations 155128] [--seed 0] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.corpora.pan12 import FILES, load_pan12  # noqa: E402
from benchmarks.corpora.pan12_records import Stats, gc_paused, iter_records  # noqa: E402
from tests.helpers import WORDS  # noqa: E402


def write_split(folder: Path, conversations: int, seed: int) -> dict[str, int]:
    """Write the test split's three files; return counts."""
    rng = random.Random(seed)
    chats, predator_file, lines_file = (folder / n for n in FILES["test"])
    predators = [f"{rng.getrandbits(128):032x}" for _ in range(254)]
    lines: list[str] = []
    messages = 0
    with chats.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<conversations>\n')
        for i in range(conversations):
            cid = f"{rng.getrandbits(128):032x}"
            authors = [f"{rng.getrandbits(128):032x}", f"{rng.getrandbits(128):032x}"]
            if i % 30 == 0:
                authors[0] = predators[i // 30 % len(predators)]
            minute = rng.randrange(1440)
            parts = [f'<conversation id="{cid}">\n']
            n = rng.randint(1, 25)
            for k in range(1, n + 1):
                minute = (minute + rng.choice((0, 1, 2, 5))) % 1440
                author = authors[rng.getrandbits(1)]
                text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 12)))
                if k % 7 == 0:
                    text += " &amp;lt;3"
                if i % 30 == 0 and author == authors[0]:
                    lines.append(f"{cid}\t{k}")
                parts.append(
                    f'<message line="{k}">\n<author>{author}</author>\n'
                    f"<time>{minute // 60:02d}:{minute % 60:02d}</time>\n"
                    f"<text>{text}</text>\n</message>\n"
                )
            messages += n
            parts.append("</conversation>\n")
            out.write("".join(parts))
        out.write("</conversations>\n")
    predator_file.write_text("".join(f"{p}\n" for p in predators))
    lines_file.write_text("".join(f"{x}\n" for x in lines))
    return {"conversations": conversations, "messages": messages, "bytes": chats.stat().st_size}


def bare_iterparse(path: Path) -> tuple[float, int]:
    """Time a bare iterparse pass counting messages (conversations cleared as they end)."""
    started = time.perf_counter()
    count = 0
    for _, element in ET.iterparse(path):
        if element.tag == "message":
            count += 1
        elif element.tag == "conversation":
            element.clear()
    return time.perf_counter() - started, count


def parse_only(folder: Path) -> float:
    """Time building every record batch without writing it (the loader minus the cache file)."""
    chats, predator_file, _ = (folder / n for n in FILES["test"])
    predators = set(predator_file.read_text().split())
    started = time.perf_counter()
    with gc_paused():  # as the loader does
        for _ in iter_records("test", chats, predators, {}, "drop", Stats()):
            pass
    return time.perf_counter() - started


def child(folder: str, cache: str) -> None:
    """Load twice (first, then cached) and print timings and peak RSS as JSON."""
    started = time.perf_counter()
    first = load_pan12(folder, cache_dir=cache)
    first_s = time.perf_counter() - started
    n = len(first.dataset)
    del first
    started = time.perf_counter()
    again = load_pan12(folder, cache_dir=cache)
    cached_s = time.perf_counter() - started
    assert len(again.dataset) == n
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"first_load_s": first_s, "cached_reload_s": cached_s, "peak_kib": peak_kib}))


def main() -> None:
    """Run the benchmark and print its JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=155128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", help="write the files here and keep them")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        report: dict[str, Any] = {
            "cores": os.cpu_count(),
            **write_split(folder, args.conversations, args.seed),
        }
        report["generate_s"] = time.perf_counter() - started
        report["bare_iterparse_s"], counted = bare_iterparse(folder / FILES["test"][0])
        assert counted == report["messages"]
        report["parse_only_s"] = parse_only(folder)
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(folder), str(Path(tmp) / "cache")],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        report |= json.loads(out.stdout.strip().splitlines()[-1])
        report["peak_rss_gb"] = report.pop("peak_kib") * 1024 / 1e9
        report["first_load_over_bare"] = report["first_load_s"] / report["bare_iterparse_s"]
        report["goals_met"] = {
            "first_load_le_3x_bare": report["first_load_over_bare"] <= 3,
            "cached_reload_lt_5s": report["cached_reload_s"] < 5,
            "peak_rss_lt_1_5gb": report["peak_rss_gb"] < 1.5,
        }
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
