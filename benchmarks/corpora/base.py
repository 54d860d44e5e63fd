"""What every corpus loader returns: records of one schema, split, fingerprinted, described."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from datasets import Dataset, NamedSplit

from benchmarks.errors import ConfigError
from benchmarks.schema import FEATURES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CorpusInfo:
    """Metadata a result must carry about its corpus.

    Attributes:
        name: the corpus's name; equal to its config file's name.
        version: the loader's (or generator's) version; part of the fingerprint.
        description: one paragraph.
        licence: the data's licence or access terms.
        citation: how to cite it.
        limitations: known caveats every report on this corpus repeats.
        checksums: sha256 of each input file, by file name.
    """

    name: str
    version: str
    description: str
    licence: str = ""
    citation: str = ""
    limitations: tuple[str, ...] = ()
    checksums: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Corpus:
    """A loaded corpus: one `datasets.Dataset` of records, with split views and provenance.

    Attributes:
        info: what the corpus is.
        dataset: every record, all splits, in a stable order.
        fingerprint: sha256 of the inputs and the loader version; equal inputs, equal value.
    """

    info: CorpusInfo
    dataset: Dataset
    fingerprint: str

    @property
    def split_names(self) -> list[str]:
        """Return the split names present, sorted."""
        return sorted(set(self.dataset.unique("split")))

    def split(self, name: str) -> Dataset:
        """Return the records of split ``name``; raise naming the splits on offer."""
        if name == "all":
            return self.dataset
        splits = np.asarray(self.dataset["split"], dtype=object)
        indices = np.flatnonzero(splits == name)
        if len(indices) == 0:
            raise ConfigError(
                f"corpus '{self.info.name}' has no split '{name}'; available: "
                f"{', '.join(self.split_names)} (or 'all')"
            )
        return self.dataset.select(indices)

    def reference(self, split: str) -> str:
        """Return the ``name@fingerprint:split`` string used for leakage checks."""
        return f"{self.info.name}@{self.fingerprint[:16]}:{split}"


def build_dataset(
    generator: Callable[..., Iterator[dict[str, Any]]],
    fingerprint: str,
    cache_dir: str | None,
    gen_kwargs: dict[str, Any] | None = None,
) -> Dataset:
    """Build (or reuse from cache) a `Dataset` of schema records keyed by ``fingerprint``.

    Without the fingerprint, `datasets` keys its cache on the generator's code and would serve a
    stale dataset after an input file changes.
    """
    if cache_dir:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
    return Dataset.from_generator(
        generator,
        # Named "corpus", not datasets' default "train": the progress bar would otherwise say
        # "Generating train split" while it builds every split of the corpus.
        split=NamedSplit("corpus"),
        features=FEATURES,
        gen_kwargs=gen_kwargs or {},
        cache_dir=cache_dir,
        fingerprint=fingerprint,
    )
