"""Hardened, incremental reading of the PAN12 chats XML and its ground-truth text files.

The XML is read with `pyexpat` in 1 MiB chunks, with the same guards as
``defusedxml.ElementTree.iterparse(forbid_dtd=True)``: a document type declaration, an entity
declaration or an external entity reference raises defusedxml's own exception. We call expat
directly instead of defusedxml's iterparse because defusedxml wraps Python's pure-Python
`XMLParser`, which builds an `Element` for every tag: 2.4x slower than a bare C ``iterparse``
pass before any record is built, against a budget of 3x for the whole load (issue 3).
"""

from __future__ import annotations

import codecs
import hashlib
import pyexpat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from benchmarks.errors import ConfigError

CHUNK = 1 << 20

_FIELDS = frozenset(("author", "time", "text"))


class CorpusFileError(ConfigError):
    """A PAN12 file is malformed or unsafe; the message names the file and position."""


def normalised_sha256(path: Path) -> str:
    """Return the sha256 of ``path``'s bytes after CRLF→LF normalisation (streamed).

    Examples:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "a").write_bytes(b"x\\r\\ny\\r\\n"); _ = (d / "b").write_bytes(b"x\\ny\\n")
        >>> normalised_sha256(d / "a") == normalised_sha256(d / "b")
        True
    """
    digest = hashlib.sha256()
    carry = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            chunk = carry + chunk
            # A CR at the end of a chunk may pair with an LF at the start of the next one.
            carry = b"\r" if chunk.endswith(b"\r") else b""
            if carry:
                chunk = chunk[:-1]
            digest.update(chunk.replace(b"\r\n", b"\n"))
    digest.update(carry)
    return digest.hexdigest()


def first_non_utf8(path: Path) -> tuple[int, int] | None:
    """Return (byte offset, line) of the first byte sequence that is not UTF-8, else None."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = line = 0
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                good = chunk[: max(error.start, 0)]
                return offset + len(good), line + good.count(b"\n") + 1
            if not chunk:
                return None
            offset += len(chunk)
            line += chunk.count(b"\n")


def read_text_lines(path: Path, role: str) -> list[tuple[int, str]]:
    """Return the non-blank, stripped lines of a ground-truth file with their line numbers."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CorpusFileError(
            f"{path}: {role} file is not UTF-8 text (wrong encoding: byte {error.start})"
        ) from None
    return [(n, s.strip()) for n, s in enumerate(text.splitlines(), start=1) if s.strip()]


def read_predatory_lines(path: Path) -> dict[str, set[int]]:
    """Read ``conversation_id<TAB>line`` entries into {conversation id: {line numbers}}."""
    out: dict[str, set[int]] = {}
    for number, entry in read_text_lines(path, "predatory-lines"):
        parts = entry.split()
        if len(parts) != 2 or not parts[1].isdigit():
            raise CorpusFileError(
                f"{path}:{number}: expected 'conversation_id<TAB>line', got {entry[:80]!r}"
            )
        out.setdefault(parts[0], set()).add(int(parts[1]))
    return out


class RawBatch(NamedTuple):
    """Conversations finished in one chunk of the XML, their messages in flat columns.

    Conversation ``i`` is ``ids[i]``, its start tag on XML line ``positions[i]``, and its raw
    messages are rows ``begins[i]:ends[i]`` of ``lines`` (the ``line`` attribute or None),
    ``authors`` (stripped), ``times`` ("HH:MM" as written, or None) and ``texts`` (raw, or
    None when there is no `<text>`). Rows outside every conversation's range are not data.
    """

    ids: list[str]
    positions: list[int]
    begins: list[int]
    ends: list[int]
    lines: list[str | None]
    authors: list[str]
    times: list[str | None]
    texts: list[str | None]


class _Reader:
    """Expat callbacks that collect finished conversations; no `Element` is ever built.

    Two Python calls per element are the bulk of the reading time, so the callbacks do as
    little as possible: messages go straight into flat columns (`RawBatch`).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.parser = parser = pyexpat.ParserCreate()
        parser.buffer_text = True
        parser.buffer_size = 1 << 16
        parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        parser.UnparsedEntityDeclHandler = self._unparsed
        parser.ExternalEntityRefHandler = self._external
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        self._new_columns()
        self._begin = -1  # first row of the open conversation; -1 outside one
        self._cid = ""
        self._cline = 0
        self._line: str | None = None
        self._author = ""
        self._time: str | None = None
        self._text: str | None = None
        self._field: str | None = None
        self._buffer: list[str] = []

    def _new_columns(self) -> None:
        self.ids: list[str] = []
        self.positions: list[int] = []
        self.begins: list[int] = []
        self.ends: list[int] = []
        self.lines: list[str | None] = []
        self.authors: list[str] = []
        self.times: list[str | None] = []
        self.texts: list[str | None] = []

    def take(self) -> RawBatch:
        """Return the conversations finished so far; keep the open one's rows for the next."""
        batch = RawBatch(
            self.ids,
            self.positions,
            self.begins,
            self.ends,
            self.lines,
            self.authors,
            self.times,
            self.texts,
        )
        cut = self._begin if self._begin >= 0 else len(batch.lines)
        self._new_columns()
        self.lines = batch.lines[cut:]
        self.authors = batch.authors[cut:]
        self.times = batch.times[cut:]
        self.texts = batch.texts[cut:]
        if self._begin >= 0:
            self._begin = 0
        return batch

    def _doctype(self, name: str, sysid: Any, pubid: Any, internal: Any) -> None:
        raise DTDForbidden(name, sysid, pubid)

    def _entity(self, name: str, _p: Any, value: Any, base: Any, sysid: Any, *rest: Any) -> None:
        raise EntitiesForbidden(name, value, base, sysid, None, None)

    def _unparsed(self, name: str, base: Any, sysid: Any, pubid: Any, notation: Any) -> None:
        raise EntitiesForbidden(name, None, base, sysid, pubid, notation)

    def _external(self, context: Any, base: Any, sysid: Any, pubid: Any) -> int:
        raise ExternalReferenceForbidden(context, base, sysid, pubid)

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        if name in _FIELDS:  # the most frequent elements first
            self._field = name
            # Text is collected only inside these elements: the whitespace between tags never
            # reaches Python.
            buffer: list[str] = []
            self._buffer = buffer
            self.parser.CharacterDataHandler = buffer.append
        elif name == "message":
            if self._begin < 0:  # not PAN12's shape: say so rather than guess an owner
                raise self.error("a <message> outside any <conversation>")
            self._line = attrs.get("line")
            self._author, self._time, self._text = "", None, None
        elif name == "conversation":
            cid = attrs.get("id", "").strip()
            if not cid:
                raise self.error("a <conversation> has no 'id' attribute")
            self._cid, self._cline = cid, self.parser.CurrentLineNumber
            self._begin = len(self.lines)

    def _end(self, name: str) -> None:
        field = self._field
        if field is not None:
            self.parser.CharacterDataHandler = None
            value = "".join(self._buffer)
            if field == "text":
                self._text = value
            elif field == "time":
                self._time = value
            else:
                self._author = value.strip()
            self._field = None
        elif name == "message":
            self.lines.append(self._line)
            self.authors.append(self._author)
            self.times.append(self._time)
            self.texts.append(self._text)
        elif name == "conversation" and self._begin >= 0:
            self.ids.append(self._cid)
            self.positions.append(self._cline)
            self.begins.append(self._begin)
            self.ends.append(len(self.lines))
            self._begin = -1

    def error(self, what: str) -> CorpusFileError:
        parser = self.parser
        return CorpusFileError(
            f"{self.path}:{parser.CurrentLineNumber}:{parser.CurrentColumnNumber + 1}: {what}"
        )


def iter_conversations(path: Path) -> Iterator[RawBatch]:
    """Yield the conversations of the chats XML in file order, in batches (one per chunk read).

    Raises:
        CorpusFileError: on malformed or truncated XML (file:line:column), bytes that are not
            UTF-8 (says so, with the byte offset), or a DTD, entity or external reference.
    """
    reader = _Reader(path)
    parser = reader.parser
    with path.open("rb") as handle:
        try:
            yield from _feed(reader, handle)
        except pyexpat.ExpatError as error:
            bad = first_non_utf8(path)
            if bad is not None:
                raise CorpusFileError(
                    f"{path}:{bad[1]}: wrong encoding: byte offset {bad[0]} is not UTF-8 "
                    "(PAN12 files are UTF-8)"
                ) from None
            raise CorpusFileError(
                f"{path}:{parser.ErrorLineNumber}:{parser.ErrorColumnNumber + 1}: malformed "
                f"or truncated XML ({pyexpat.ErrorString(error.code)})"
            ) from None
        except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as error:
            raise reader.error(
                f"refused: XML with a DOCTYPE, entity declarations or external entities is not "
                f"accepted ({type(error).__name__})"
            ) from None


def _feed(reader: _Reader, handle: BinaryIO) -> Iterator[RawBatch]:
    parse = reader.parser.Parse
    while chunk := handle.read(CHUNK):
        parse(chunk, False)
        if reader.ids:
            yield reader.take()
    parse(b"", True)
    if reader.ids:
        yield reader.take()
