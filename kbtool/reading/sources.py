"""Opening a register: a path or `-` for stdin, gzip-compressed or not; workbook or text, and the
text's encoding.

The first megabyte (decompressed) decides: a zip or OLE signature is a workbook; text is UTF-16
with a BOM (Excel's "Unicode text"), UTF-8 with or without a BOM, or else Windows-1252 (what
Excel on Indonesian Windows saves as CSV). A file on disk is then read again by pyarrow's own
streams (gzip included); stdin and pipes are read once, as they arrive.
"""

from __future__ import annotations

import codecs
import os
import stat
import sys
import zlib
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from kbtool.errors import InputError
from kbtool.words import Said

# How much of a file is looked at to choose format, encoding, delimiter and header line.
PREFIX_BYTES = 1 << 20
EXPECTED_FORMAT = "expected a CSV (comma, semicolon or tab separated) or an xlsx workbook"
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")  # xlsx/ods zip, legacy xls
_GZIP_MAGIC = b"\x1f\x8b"

# what reading a damaged file can raise (pyarrow's gzip stream raises OSError)
READ_ERRORS = (pa.ArrowException, OSError, EOFError, UnicodeError, ValueError, zlib.error)


def describe(err: BaseException) -> str:
    """The first line of a library's error, for a one-line InputError."""
    first = (str(err).strip() or type(err).__name__).splitlines()[0]
    if "Truncated compressed stream" in first:  # pyarrow's words for a gzip file cut short
        return "Compressed file ended before the end-of-stream marker was reached"
    return first


def source_list(sources: str | os.PathLike[str] | Sequence[str | Path]) -> list[str | Path]:
    """The files a function reading several is given: a sequence of them, or one named alone
    (a str or Path, which is one file, not a sequence of its letters)."""
    if isinstance(sources, str | os.PathLike):
        return [sources if isinstance(sources, str) else Path(sources)]
    return list(sources)


@dataclass
class Source:
    """An opened input: its first PREFIX_BYTES bytes (decompressed) and the stream of the rest
    (None when `prefix` is all of it); `path` for a regular file, which pyarrow opens again."""

    name: str
    prefix: bytes
    stream: Any
    path: Path | None
    compression: str | None  # "gzip" or None
    handles: list[Any] = field(default_factory=list)

    @property
    def is_workbook(self) -> bool:
        return self.prefix.startswith(_WORKBOOK_MAGIC)

    def everything(self) -> bytes:
        """All the bytes (a workbook is read whole)."""
        return self.prefix + (self.stream.read() if self.stream is not None else b"")

    def bytes_from(self, offset: int) -> pa.NativeFile:
        """A stream of the (decompressed) bytes from `offset` on."""
        if self.path is not None:
            stream = pa.input_stream(str(self.path), compression=self.compression)
            if self.compression:
                stream.read(offset)  # a compressed stream cannot seek
            else:
                stream.seek(offset)
            return stream
        if self.stream is None:
            return pa.BufferReader(self.prefix[offset:])
        # a pipe cannot be rewound: the bytes already read go first
        return pa.PythonFile(_Replay(self.prefix[offset:], self.stream), mode="r")

    def close(self) -> None:
        for handle in reversed(self.handles):
            handle.close()


class _Replay:
    """Bytes already read from a stream, then the rest of the stream, as a readable file."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self.head, self.rest, self.closed = head, rest, False

    def read(self, size: int | None = -1) -> bytes:
        head = self.head
        if size is not None and 0 <= size < len(head):
            self.head = head[size:]
            return head[:size]
        self.head = b""
        return head + self.rest.read(-1 if size is None or size < 0 else size - len(head))

    def close(self) -> None:
        self.closed = True


def open_source(name: str) -> Source:
    """Open a path, or stdin for `-`, and read its first bytes; InputError when it cannot be."""
    path: Path | None = None
    handles: list[Any] = []
    if name == "-":
        if sys.stdin is None:  # started with stdin closed (as cron may)
            raise InputError("-: standard input is closed; name the register file instead")
        stream: Any = sys.stdin.buffer
    else:
        try:
            stream = open(name, "rb")  # noqa: SIM115 (closed by Source.close)
        except FileNotFoundError as err:
            raise InputError(f"{name}: file not found") from err
        except IsADirectoryError as err:
            raise InputError(f"{name}: is a directory; {EXPECTED_FORMAT}") from err
        except OSError as err:
            raise InputError(f"{name}: cannot open ({err.strerror or err})") from err
        handles.append(stream)
        # a pipe such as <(zcat ...) is read once, as a stream
        if stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            path = Path(name)
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
    rest = stream if len(prefix) == PREFIX_BYTES else None
    return Source(name, prefix, rest, path, compression, handles)


def _windows_1252_fallback(err: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a byte that is not UTF-8 is read as Windows-1252."""
    assert isinstance(err, UnicodeDecodeError)
    return err.object[err.start : err.end].decode("cp1252", errors="replace"), err.end


codecs.register_error("kbtool_utf8_or_cp1252", _windows_1252_fallback)


@dataclass(frozen=True)
class Text:
    """What a CSV's first bytes say: the text they decode to and how to read the rest."""

    encoding: str  # "utf-8", "cp1252", "utf-16-le" or "utf-16-be"
    start: int  # bytes of the byte order mark
    text: str  # the prefix decoded (without a character cut off at its end)
    # UTF-8: what a byte that is not UTF-8 becomes: U+FFFD ("replace") once the prefix shows
    # UTF-8 characters, else the Windows-1252 character (a row typed on another machine)
    errors: str = "replace"
    note: str | None = None  # why the encoding was chosen, when people should hear it

    def offset(self, chars: int) -> int:
        """The byte offset of character `chars` of `text`."""
        if self.encoding == "cp1252":  # one byte a character (U+FFFD included)
            return self.start + chars
        return self.start + len(self.text[:chars].encode(self.encoding, "surrogatepass"))

    def as_utf8(
        self, stream: pa.NativeFile, then: Callable[[Any], Any], on_replaced: Callable[[], None]
    ) -> pa.NativeFile:
        """`stream` as valid UTF-8 for pyarrow (a valid UTF-8 block passes without decoding);
        `on_replaced` is called for a block with U+FFFD. `then` transforms the UTF-8 blocks
        further; it gets an empty block at the end, and no other."""
        utf8 = self.encoding == "utf-8"
        decoder = codecs.getincrementaldecoder(self.encoding)(
            errors=self.errors if utf8 else "replace"
        )

        def transform(block: pa.Buffer) -> Any:
            if utf8 and not decoder.getstate()[0] and _is_utf8(block):
                text: Any = block
            else:
                decoded = decoder.decode(block, block.size == 0)
                if "\ufffd" in decoded:
                    on_replaced()
                text = decoded.encode("utf-8")
            if block.size > 0:
                return then(text) if len(text) else text
            return bytes(then(text)) + bytes(then(b"")) if len(text) else then(b"")

        return pa.TransformInputStream(stream, transform)


def _is_utf8(block: pa.Buffer) -> bool:
    offsets = pa.py_buffer(np.array([0, block.size], dtype=np.int64))
    try:
        pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, block]).validate(full=True)
    except pa.ArrowInvalid:  # (a character cut at the block's end too: the decoder joins it)
        return False
    return True


def decode_prefix(source: Source) -> Text:
    """The encoding and text of a CSV's first bytes; InputError for an empty or binary file.

    Without a UTF-16 BOM: UTF-8 unless the bytes that are not UTF-8 outnumber the UTF-8
    characters of more than one byte (Windows-1252 text has many of the first and almost none of
    the second; a UTF-8 file with a damaged byte, the reverse)."""
    prefix, final = source.prefix, source.stream is None
    if not prefix.strip():
        raise InputError(f"{source.name}: empty file; {EXPECTED_FORMAT} with a header line")
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if prefix.startswith(bom):  # Excel's "Unicode text" export: UTF-16, tab separated
            decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
            return Text(encoding, len(bom), decoder.decode(prefix[len(bom) :], final))
    if b"\x00" in prefix:
        raise InputError(f"{source.name}: not a text file (binary data); {EXPECTED_FORMAT}")
    start = len(codecs.BOM_UTF8) if prefix.startswith(codecs.BOM_UTF8) else 0
    body = prefix[start:]
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(body, final)
    bad = text.count("\ufffd") - body.count(b"\xef\xbf\xbd")
    ascii_bytes = int(np.count_nonzero(np.frombuffer(body, np.uint8) < 0x80))
    characters = len(text) - ascii_bytes - bad  # of two to four bytes, valid UTF-8
    if not bad:
        return Text("utf-8", start, text, "replace" if characters else "kbtool_utf8_or_cp1252")
    if characters >= bad:
        return Text("utf-8", start, text)
    decoder = codecs.getincrementaldecoder("cp1252")(errors="replace")
    key = "windows_1252" if characters else "windows_1252_none"
    note = Said(key, file=source.name, bad=bad, characters=characters)
    return Text("cp1252", start, decoder.decode(body, final), note=note)


def read_text(name: str) -> str:
    """All of a small text file (a table of targets or groups), decoded as a register is: byte
    order marks, UTF-16, and UTF-8 or Windows-1252 as its bytes say."""
    with closing(open_source(name)) as source:
        body = source.everything()
    return decode_prefix(Source(name, body, None, None, None)).text
