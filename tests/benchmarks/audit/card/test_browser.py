"""The report card in a real headless browser (Debian's chromium): it renders, whole, offline.

Without chromium these tests are skipped locally and fail under CI (`.ci/run` installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from benchmarks import app
from benchmarks.audit.card.report import section_titles
from benchmarks.jobplan import build_plan

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
if BROWSER is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI must install chromium (.ci/run does): the card is unrendered")
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run's card: GroomCheck (two cases a test), perturbations, a claim with criteria."""
    tmp = tmp_path_factory.mktemp("card")
    with initialize_config_module("configs", version_base="1.3"):
        cfg = compose(
            "groombench",
            overrides=[
                f"paths.root={tmp / 'runs'}",
                "corpus=groomcheck",
                "corpus.cases_per_test=2",
                "detector=lexicon",
                "perturb=spelling",
                "perturb.n_resamples=200",
                "claim=robustness_example",
                "tracking=none",
                "runner.progress=false",
                "audit.n_resamples=200",
                "audit.reliability_sample=10",
            ],
        )
    app.run_job(build_plan(cfg), tmp / "out")
    return tmp / "out" / "report" / "report.html"


def chromium(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    assert BROWSER is not None
    return subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",  # root in a container; the page is our own file
            "--disable-gpu",
            f"--user-data-dir={home}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_every_section_renders_with_its_plots_and_nothing_from_outside(
    card: Path, tmp_path: Path
) -> None:
    done = chromium("--dump-dom", card.as_uri(), home=tmp_path / "profile")
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    headings = re.findall(r"<h2[^>]*>(.*?)</h2>", dom)
    titles = [t for t in section_titles() if t != "Comparisons"]
    assert [re.sub(r"^\d+\.\s*", "", h) for h in headings] == titles
    images = re.findall(r'<img[^>]*src="([^"]{0,40})', dom)
    assert len(images) >= 6 and all(src.startswith("data:image/png;base64,") for src in images)
    assert not re.search(r'(src|href)="(https?:)?//', dom)  # self-contained: fetches nothing
    assert "GroomCheck v1" in dom and "Declared robustness criteria" in dom
    assert "scores the same within" in dom


def test_the_screenshot_is_a_whole_page(card: Path, tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    shot = tmp_path / "card.png"
    done = chromium(
        "--hide-scrollbars",
        "--window-size=1400,6000",
        f"--screenshot={shot}",
        card.as_uri(),
        home=tmp_path / "profile",
    )
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    image = Image.open(shot).convert("L")
    assert image.size == (1400, 6000)
    inked = int((np.asarray(image) < 200).sum())
    assert inked > 0.02 * 1400 * 6000  # text, tables and plots, not a blank page
