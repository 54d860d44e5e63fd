"""Contract tests over every corpus config: schema, unique ids, stable order, fingerprints."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from benchmarks.components import build
from benchmarks.corpora.base import Corpus
from benchmarks.jobplan import Component
from benchmarks.schema import FEATURES, validate_record
from tests.corpus_fixtures import corpus_overrides

CORPORA = sorted(p.stem for p in (Path(__file__).parents[3] / "configs" / "corpus").glob("*.yaml"))


def load(name: str, tmp_path: Path, cache: str) -> Corpus:
    extra = corpus_overrides(name, tmp_path)
    with initialize_config_module("configs", version_base="1.3"):
        cfg = compose(
            "groombench",
            overrides=[
                f"corpus={name}",
                f"paths.root={tmp_path}",
                f"corpus.cache_dir={cache}",
                *extra,
            ],
        )
    node = OmegaConf.to_container(cfg.corpus, resolve=True)
    assert isinstance(node, dict)
    # A test suite names the corpus its detectors train on (`train_on`), not a loader argument.
    TRAIN_ON[name] = node.pop("train_on", None)
    corpus = build(Component.of(node))
    assert isinstance(corpus, Corpus)
    return corpus


TRAIN_ON: dict[str, object] = {}


@pytest.mark.parametrize("name", CORPORA)
def test_corpus_contract(name: str, tmp_path: Path) -> None:
    corpus = load(name, tmp_path, str(tmp_path / "cache1"))
    assert corpus.info.name == name and corpus.info.version
    assert corpus.dataset.features == FEATURES
    ids = corpus.dataset["conversation_id"]
    assert len(ids) == len(set(ids))
    for record in corpus.dataset.select(range(min(50, len(ids)))):
        validate_record(record)
    # Trainable detectors learn from a train split, or from the corpus the config names.
    assert "test" in corpus.split_names
    assert "train" in corpus.split_names or TRAIN_ON[name] is not None
    # Loaded again into a fresh cache: same records, same order, same fingerprint.
    again = load(name, tmp_path, str(tmp_path / "cache2"))
    assert again.fingerprint == corpus.fingerprint
    assert again.dataset["conversation_id"] == ids
    assert again.dataset[0] == corpus.dataset[0]
