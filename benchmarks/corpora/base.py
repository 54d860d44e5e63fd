"""What every corpus loader returns: records of one schema, split, fingerprinted, described."""

from __future__ import annotations

import itertools
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from datasets import Dataset
from tqdm.auto import tqdm

from benchmarks.errors import ConfigError
from benchmarks.schema import FEATURES
from benchmarks.staging import prefix as staging_prefix

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

    def unit_ids(self, split: str) -> set[str]:
        """Return the split's conversation ids, segment suffixes (``#k``) removed.

        Segments of one chat (PANC's ``chat#3``) count as that chat, so a model trained on
        segments is caught when scored on the complete chats, and vice versa.
        """
        return {cid.split("#", 1)[0] for cid in self.split(split)["conversation_id"]}

    def reference(self, split: str) -> str:
        """Return the ``name@fingerprint:split`` string used for leakage checks."""
        return f"{self.info.name}@{self.fingerprint[:16]}:{split}"


BATCH_ROWS = 2000
CACHE_FOLDER = "groombench-corpora"


def build_dataset(
    generator: Callable[..., Iterator[dict[str, Any]]],
    fingerprint: str,
    cache_dir: str | None,
    gen_kwargs: dict[str, Any] | None = None,
    *,
    batched: bool = False,
) -> Dataset:
    """Build (or reuse from cache) a `Dataset` of schema records keyed by ``fingerprint``.

    Records are converted to Arrow in batches by pyarrow and written as one memory-mapped file,
    ``<cache_dir>/groombench-corpora/<fingerprint>/corpus.arrow``; a later call with the same
    fingerprint opens that file instead of generating again. (`datasets`'s own
    ``from_generator`` encodes every example in Python, about 6x slower, and keys its cache on
    the generator's code, which serves a stale dataset after an input file changes.) The file is
    written beside its final name and renamed, so a crash never leaves half a cache. Without
    ``cache_dir`` the dataset stays in memory. With ``batched`` the generator yields
    `pyarrow.RecordBatch` objects of the schema instead of record dicts (a loader that builds
    its columns itself, for speed).
    """
    schema = FEATURES.arrow_schema
    records = generator(**(gen_kwargs or {}))
    batches = _progress(records) if batched else _batches(records, schema)
    if not cache_dir:
        return Dataset(pa.Table.from_batches(list(batches), schema=schema))
    folder = Path(cache_dir) / CACHE_FOLDER / fingerprint
    target = folder / "corpus.arrow"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(
            prefix=staging_prefix("corpus"), suffix=".arrow", dir=folder
        )
        os.close(handle)
        try:
            with pa.OSFile(staging, "wb") as sink, pa.ipc.new_stream(sink, schema) as writer:
                for batch in batches:
                    writer.write_batch(batch)
            os.replace(staging, target)
        finally:
            if os.path.exists(staging):
                os.unlink(staging)
    return Dataset.from_file(str(target))


def _batches(records: Iterator[dict[str, Any]], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    bar = tqdm(desc="building corpus", unit="conv", leave=False, disable=None)
    while chunk := list(itertools.islice(records, BATCH_ROWS)):
        yield pa.RecordBatch.from_pylist(chunk, schema=schema)
        bar.update(len(chunk))
    bar.close()


def _progress(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    bar = tqdm(desc="building corpus", unit="conv", leave=False, disable=None)
    for batch in batches:
        yield batch
        bar.update(batch.num_rows)
    bar.close()
