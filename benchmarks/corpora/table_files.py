"""Reading a Parquet or CSV export's columns with pyarrow, safely (for :mod:`.tabular`).

Parquet is read under a decompression guard: a few kilobytes can decode to gigabytes. CSV is
read with the mapped columns as text, blocks grown for long cells, and parse errors that give
a line but never quote the row (chat text).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from benchmarks.corpora.jsonl import CorpusFileError
from benchmarks.errors import bounded, shown

#: Bytes a decoded value costs at least as a Python object (the decompression guard's unit).
VALUE_COST = 64


def _line_of(file: Path, text: str) -> str:
    """Return " (line N)" for the first line of ``file`` equal to ``text``, else ""."""
    target = text.encode()
    with file.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.rstrip(b"\r\n") == target:
                return f" (line {number})"
    return ""


def _parquet(file: Path, names: list[str], max_bytes: int) -> pa.Table:
    """Read the mapped columns of a Parquet file, refusing one that decodes past ``max_bytes``.

    A few kilobytes of Parquet can decode to gigabytes (a compressed page of repeats, or one
    long dictionary value referenced by every row). The footer's uncompressed sizes are
    checked first; then the file is read in small batches with text columns kept as
    dictionaries, and each batch's decoded size is counted before anything is materialised.
    """
    limit = f"more than {max_bytes >> 20} MiB (corpus.max_decompressed_mb)"
    advice = "raise corpus.max_decompressed_mb if the file is genuine"
    try:
        handle = pq.ParquetFile(file)
        schema = handle.schema_arrow
        counts = Counter(schema.names)
        twice = sorted(n for n in dict.fromkeys(names) if counts[n] > 1)
        if twice:
            raise CorpusFileError(
                f"{file}: column(s) {', '.join(map(shown, twice))} appear more than once; "
                "rename one, or map another name with corpus.columns"
            )
        wanted = [n for n in dict.fromkeys(names) if n in schema.names]
        meta = handle.metadata
        chunks = [
            meta.row_group(g).column(c)
            for g in range(meta.num_row_groups)
            for c in range(meta.num_columns)
            if meta.row_group(g).column(c).path_in_schema.split(".")[0] in wanted
        ]
        # Each value read becomes a Python object of some 60 bytes at least: a list cell of
        # millions of tiny items, run-length encoded into a few bytes, is counted by its values.
        stored = sum(c.total_uncompressed_size + VALUE_COST * c.num_values for c in chunks)
        if stored > max_bytes:
            raise CorpusFileError(f"{file}: its columns decompress to {limit}; {advice}")
        textual = [
            n
            for n in wanted
            if pa.types.is_string(schema.field(n).type)
            or pa.types.is_large_string(schema.field(n).type)
            or pa.types.is_binary(schema.field(n).type)
            or pa.types.is_large_binary(schema.field(n).type)
        ]
        handle = pq.ParquetFile(file, read_dictionary=textual)
        batches, total = [], 0
        for batch in handle.iter_batches(batch_size=256, columns=wanted):
            total += sum(_decoded_size(column) for column in batch.columns)
            if total > max_bytes:
                raise CorpusFileError(f"{file}: its columns decode to {limit}; {advice}")
            batches.append(batch)
        if not batches:
            return handle.schema_arrow.empty_table().select(wanted)
        return pa.Table.from_batches(batches)
    except (pa.ArrowException, OSError) as error:
        raise CorpusFileError(
            f"{file}: not a readable parquet file ({bounded(str(error), 300)})"
        ) from None


def _decoded_size(column: pa.Array) -> int:
    """Bytes ``column`` takes once decoded into Python values.

    A dictionary's values count once per row; every value (a list's items too) adds
    :data:`VALUE_COST` for the Python object it becomes.
    """
    if isinstance(column, pa.DictionaryArray):
        lengths = pc.binary_length(column.dictionary).take(column.indices)
        decoded: int = pc.sum(lengths).as_py() or 0
        return decoded + int(column.indices.nbytes) + VALUE_COST * len(column)
    values = len(column)
    while isinstance(column, pa.ListArray | pa.LargeListArray):
        column = column.flatten()
        values += len(column)
    return int(column.nbytes) + VALUE_COST * values


def _csv(file: Path, names: list[str]) -> pa.Table:
    """Read a CSV file, the mapped columns as text; errors give a line, never a row's text."""
    invalid: list[Any] = []

    def handler(row: Any) -> str:
        invalid.append(row)
        return "error"

    convert = pa_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
    parse = pa_csv.ParseOptions(invalid_row_handler=handler)
    size = file.stat().st_size
    block = 1 << 20
    while True:
        try:
            read = pa_csv.ReadOptions(block_size=block)
            return pa_csv.read_csv(
                file, read_options=read, parse_options=parse, convert_options=convert
            )
        except pa.ArrowInvalid as error:
            text = str(error)
            if "straddling" in text and block < min(size + 1, 1 << 30):
                # A cell longer than a block: read again with blocks that hold it.
                block = min(max(block * 16, 1 << 24), size + 1, 1 << 30)
                continue
            if "UTF8" in text or "UTF-8" in text:
                raise CorpusFileError(f"{file}: not UTF-8 text; re-save it as UTF-8") from None
            where = _line_of(file, invalid[0].text) if invalid else ""
            # pyarrow quotes the offending row (chat text): keep only what went wrong.
            reason = re.sub(r"(CSV parse error: [^:]*):.*", r"\1", text, flags=re.DOTALL)
            raise CorpusFileError(
                f"{file}{where}: not a readable csv file ({bounded(reason, 300)})"
            ) from None
        except OSError as error:
            raise CorpusFileError(
                f"{file}: not a readable csv file ({bounded(str(error), 300)})"
            ) from None


def read_file(file: Path, fmt: str, names: list[str], max_bytes: int) -> pa.Table:
    """Read the file with pyarrow; CSV cells of the mapped columns stay text."""
    table = _parquet(file, names, max_bytes) if fmt == "parquet" else _csv(file, names)
    counts = Counter(table.column_names)
    twice = sorted(name for name in names if counts[name] > 1)
    if twice:
        raise CorpusFileError(
            f"{file}: column(s) {', '.join(map(shown, twice))} appear more than once in the "
            "header; rename one, or map another name with corpus.columns"
        )
    return table
