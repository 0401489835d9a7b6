"""Opening a register: a path or `-` for stdin, gzip-compressed or not; workbook or text, and the
text's encoding.

The first megabyte (decompressed) decides: a zip or OLE signature is a workbook; text is UTF-16
with a BOM (Excel's "Unicode text"), UTF-8 with or without a BOM, or else Windows-1252 (what
Excel on Indonesian Windows saves as CSV). pyarrow then reads the text from its header line on:
a file on disk through its own streams (gzip included), stdin and pipes once, as they arrive.
"""

from __future__ import annotations

import codecs
import functools
import os
import stat
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from kbtool.errors import InputError

# How much of a file is looked at to choose format, encoding, delimiter and header line.
PREFIX_BYTES = 1 << 20
EXPECTED_FORMAT = "expected a CSV (comma, semicolon or tab separated) or an xlsx workbook"
_ZIP_MAGIC = b"PK\x03\x04"  # xlsx and ods are zip archives
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls
_GZIP_MAGIC = b"\x1f\x8b"

# what reading a damaged file can raise (pyarrow's gzip stream raises OSError)
READ_ERRORS = (pa.ArrowException, OSError, EOFError, UnicodeError, ValueError, zlib.error)
# pyarrow's words for a gzip file cut short, and the words kbtool has always said it with
_TRUNCATED = "Truncated compressed stream"
_TRUNCATED_SAID = "Compressed file ended before the end-of-stream marker was reached"


def describe(err: BaseException) -> str:
    """The first line of a library's error, for a one-line InputError."""
    text = str(err).strip()
    if not text:
        return type(err).__name__
    first = text.splitlines()[0]
    return _TRUNCATED_SAID if _TRUNCATED in first else first


@dataclass
class Source:
    """An opened input and its first bytes.

    `prefix` holds the first PREFIX_BYTES bytes (decompressed), `stream` the rest (None when
    `prefix` is all of it). `path` is set for a regular file, which pyarrow opens again by name
    to read natively; stdin and pipes are read once, through `stream`.
    """

    name: str
    kind: str  # "csv" or "workbook"
    prefix: bytes
    stream: Any
    path: Path | None
    compression: str | None  # "gzip" or None
    handles: list[Any] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether `prefix` holds the whole (decompressed) file."""
        return self.stream is None

    def everything(self) -> bytes:
        """All the bytes, `prefix` and the rest (a workbook is read whole)."""
        return self.prefix + (self.stream.read() if self.stream is not None else b"")

    def bytes_from(self, offset: int) -> pa.NativeFile:
        """A readable stream of the (decompressed) bytes from `offset` on, for pyarrow."""
        if self.path is not None:
            stream = pa.input_stream(str(self.path), compression=self.compression)
            if self.compression is None:
                stream.seek(offset)
            else:
                stream.read(offset)
            return stream
        if self.stream is None:
            return pa.BufferReader(self.prefix[offset:])
        # a pipe cannot be rewound: the bytes already read go first
        return pa.PythonFile(_Replay(self.prefix[offset:], self.stream), mode="r")

    def close(self) -> None:
        for handle in reversed(self.handles):
            handle.close()


class _Replay:
    """Bytes already read from a stream, then the rest of the stream, as pyarrow reads a Python
    file: `read(size)` returns the stream's own bytes once the first ones are handed out."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self._head = head
        self._rest = rest
        self.closed = False

    def read(self, size: int | None = -1) -> bytes:
        head = self._head
        if not head:
            return bytes(self._rest.read(size))
        if size is not None and 0 <= size < len(head):
            self._head = head[size:]
            return head[:size]
        self._head = b""
        more = -1 if size is None or size < 0 else size - len(head)
        return head + self._rest.read(more)

    def close(self) -> None:
        self.closed = True


def open_source(name: str) -> Source:
    """Open a path, or stdin for `-`, and read its first bytes; InputError when it cannot be."""
    if name == "-":
        return _first_bytes(name, sys.stdin.buffer, None, [])
    path = Path(name)
    try:
        handle = path.open("rb")
    except FileNotFoundError as err:
        raise InputError(f"{name}: file not found") from err
    except IsADirectoryError as err:
        raise InputError(f"{name}: is a directory; {EXPECTED_FORMAT}") from err
    except OSError as err:
        raise InputError(f"{name}: cannot open ({err.strerror or err})") from err
    regular = stat.S_ISREG(os.fstat(handle.fileno()).st_mode)
    # a pipe such as <(zcat ...) is read once, as a stream
    return _first_bytes(name, handle, path if regular else None, [handle])


def _first_bytes(name: str, stream: Any, path: Path | None, handles: list[Any]) -> Source:
    compression = None
    try:
        # two bytes first: a gzip stream is decompressed as it arrives, not after a megabyte
        prefix = stream.read(len(_GZIP_MAGIC))
        if prefix == _GZIP_MAGIC:
            compression = "gzip"
            if path is not None:
                stream = pa.input_stream(str(path), compression=compression)
            else:
                replayed = pa.PythonFile(_Replay(prefix, stream), mode="r")
                stream = pa.CompressedInputStream(replayed, compression)
            handles.append(stream)
            prefix = b""
        prefix += stream.read(PREFIX_BYTES - len(prefix))
    except READ_ERRORS as err:
        for handle in handles:
            handle.close()
        raise InputError(f"{name}: cannot read ({describe(err)})") from err
    kind = "workbook" if prefix.startswith((_ZIP_MAGIC, _OLE_MAGIC)) else "csv"
    rest = stream if len(prefix) == PREFIX_BYTES else None
    return Source(name, kind, prefix, rest, path, compression, handles)


# ---------------------------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------------------------


def _windows_1252_fallback(err: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a byte that is not UTF-8 is read as Windows-1252."""
    assert isinstance(err, UnicodeDecodeError)
    return err.object[err.start : err.end].decode("cp1252", errors="replace"), err.end


codecs.register_error("kbtool_utf8_or_cp1252", _windows_1252_fallback)


def _utf8_or_cp1252() -> Callable[[pa.Buffer], Any]:
    """A transform of a UTF-8 stream's blocks (pyarrow.TransformInputStream): a byte that is
    not UTF-8 (a row typed on another machine) is read as Windows-1252, not a failed read."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="kbtool_utf8_or_cp1252")

    def transform(block: pa.Buffer) -> Any:
        final = block.size == 0
        cut = decoder.getstate()[0]  # the start of a character the last block ended in
        if not final and not cut and np.frombuffer(block, np.uint8).max() < 0x80:
            return block  # plain ASCII is UTF-8 as it is
        return decoder.decode(block, final).encode("utf-8")

    return transform


# The codecs pyarrow transcodes Windows-1252 and UTF-16 through (pyarrow.csv.ReadOptions(
# encoding=)). pyarrow makes their decoders with strict errors, so each is registered with the
# errors kbtool reads by: Windows-1252's five unassigned bytes and broken UTF-16 become U+FFFD.
_CODECS = {
    "kbtool_cp1252": ("cp1252", "replace"),
    "kbtool_utf_16_le": ("utf-16-le", "replace"),
    "kbtool_utf_16_be": ("utf-16-be", "replace"),
}


def _find_codec(name: str) -> codecs.CodecInfo | None:
    if name not in _CODECS:
        return None
    encoding, errors = _CODECS[name]
    base = codecs.lookup(encoding)
    return codecs.CodecInfo(
        base.encode,
        base.decode,
        incrementalencoder=base.incrementalencoder,
        incrementaldecoder=functools.partial(base.incrementaldecoder, errors=errors),
        name=name,
    )


codecs.register(_find_codec)


@dataclass(frozen=True)
class Text:
    """What a CSV's first bytes say: the text they decode to and how to read the rest."""

    encoding: str  # "utf-8", "cp1252", "utf-16-le" or "utf-16-be"
    start: int  # bytes of the byte order mark
    text: str  # the prefix decoded (without a character cut off at its end)

    def transcoded(self, stream: pa.NativeFile) -> tuple[pa.NativeFile, str]:
        """`stream` ready for pyarrow's CSV reader, and the encoding to give the reader."""
        if self.encoding != "utf-8":
            return stream, "kbtool_" + self.encoding.replace("-", "_")
        # not pyarrow's transcoding: decoding and encoding every block, the GIL held, cost a
        # piped 1M-row kbtool zscore ~0.4 CPU-s; plain ASCII blocks pass as they are
        return pa.TransformInputStream(stream, _utf8_or_cp1252()), "utf8"

    def offset(self, chars: int) -> int:
        """The byte offset of character `chars` of `text`."""
        if self.encoding == "cp1252":
            return self.start + chars
        return self.start + len(self.text[:chars].encode(self.encoding, "surrogatepass"))


def decode_prefix(source: Source) -> Text:
    """The encoding and text of a CSV's first bytes; InputError for an empty or binary file."""
    prefix = source.prefix
    final = source.complete
    if not prefix.strip():
        raise InputError(f"{source.name}: empty file; {EXPECTED_FORMAT} with a header line")
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if prefix.startswith(bom):
            # Excel's "Unicode text" export: UTF-16 with BOM, tab separated
            decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
            return Text(encoding, len(bom), decoder.decode(prefix[len(bom) :], final=final))
    if b"\x00" in prefix:
        raise InputError(f"{source.name}: not a text file (binary data); {EXPECTED_FORMAT}")
    start = len(codecs.BOM_UTF8) if prefix.startswith(codecs.BOM_UTF8) else 0
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(prefix[start:], final=final)
    except UnicodeDecodeError:
        # not UTF-8: Windows-1252
        decoder = codecs.getincrementaldecoder("cp1252")(errors="replace")
        return Text("cp1252", start, decoder.decode(prefix[start:], final=final))
    return Text("utf-8", start, text)
