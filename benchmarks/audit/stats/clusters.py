"""Which conversations are not independent: clusters for the bootstrap.

One groomer writes to many children, one child talks to many people: conversations that share an
author are correlated, and an interval that treats them as independent is too narrow. The
bootstrap therefore resamples clusters: the connected components of the conversation–author
graph (the same components that keep the synthetic corpus's splits author-disjoint).

When authors link most of a corpus into one giant component, resampling components leaves too
few units to say anything; then conversations are the clusters, and the result says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks.corpora.splitting import author_components

# A component holding more than this share of the conversations makes the author clusters
# useless for resampling (and says the authors are a social graph, not separate cases).
GIANT_SHARE = 0.05
GIANT_MIN = 20
#: Written beside every audited run's results: conversation id → cluster id (no text).
CLUSTERS_FILE = (
    "clusters.parquet"  # ...and more than this many: small corpora keep their small components
)


@dataclass(frozen=True)
class Clusters:
    """Per-conversation cluster ids and how they were formed.

    Attributes:
        ids: one cluster id per conversation, in the split's order.
        by: "author" (components of shared authors) or "conversation".
        n_clusters: distinct clusters.
        largest: conversations in the largest cluster.
        note: why conversations were used when authors were asked for.
    """

    ids: tuple[str, ...]
    by: str
    n_clusters: int
    largest: int
    note: str = ""


def _author_lists(dataset: Any) -> list[list[str]]:
    """Each conversation's authors, read from Arrow without materialising message text."""
    table = dataset.select_columns(["messages"]).with_format("arrow")[:]
    column = table.column("messages")
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    authors = pc.struct_field(pc.list_flatten(column), "author").to_pylist()
    parents = pc.list_parent_indices(column).to_pylist()
    out: list[list[str]] = [[] for _ in range(len(column))]
    for parent, author in zip(parents, authors, strict=True):
        out[parent].append(author)
    return out


def conversation_clusters(dataset: Any, by: str = "auto") -> Clusters:
    """Return the cluster of each conversation of a corpus split.

    Args:
        dataset: a corpus split (``datasets.Dataset`` with ``conversation_id`` and
            ``messages``).
        by: "author" (components of shared authors), "conversation" (each its own), or "auto"
            (authors, unless one component holds more than :data:`GIANT_SHARE` of the
            conversations, and more than :data:`GIANT_MIN`).
    """
    if by not in ("auto", "author", "conversation"):
        raise ValueError(f"cluster_by must be auto, author or conversation; got {by!r}")
    ids = [str(i) for i in dataset["conversation_id"]]
    if by == "conversation" or not ids:
        return Clusters(tuple(ids), "conversation", len(set(ids)), 1 if ids else 0)
    records = [{"messages": [{"author": a} for a in authors]} for authors in _author_lists(dataset)]
    components = author_components(records)
    largest = max(len(c) for c in components)
    if by == "auto" and largest > max(GIANT_SHARE * len(ids), GIANT_MIN):
        note = (
            f"authors link {largest} of {len(ids)} conversations into one component; "
            "conversations are resampled instead (intervals may be too narrow where authors "
            "repeat)"
        )
        return Clusters(tuple(ids), "conversation", len(set(ids)), 1, note)
    cluster_of = [""] * len(ids)
    for component in components:
        name = f"a:{ids[component[0]]}"  # named by its first conversation: stable across runs
        for position in component:
            cluster_of[position] = name
    return Clusters(tuple(cluster_of), "author", len(components), largest)


def write_clusters(path: Path, conversation_ids: list[Any], clusters: Clusters) -> None:
    """Write each conversation's cluster id (ids only, no text), for later comparisons."""
    table = pa.table(
        {"conversation_id": [str(i) for i in conversation_ids], "cluster": list(clusters.ids)},
        metadata={"cluster_by": clusters.by},
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def read_clusters(path: Path) -> tuple[dict[str, str], str] | None:
    """Read :func:`write_clusters`' file: conversation id → cluster id, and what a cluster is."""
    if not path.exists():
        return None
    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    by = meta.get(b"cluster_by", b"conversation").decode()
    ids = table.column("conversation_id").to_pylist()
    return dict(zip(ids, table.column("cluster").to_pylist(), strict=True)), by
