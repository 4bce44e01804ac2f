"""Reading parallel corpora: plain or gzipped text, aligned file pairs and TSV files.

Pure Python (no TensorFlow). Every problem a user can fix -- a missing file, a wrong encoding, files of
different lengths, a malformed TSV row -- raises :class:`~nmt.errors.UserError` naming the file and,
where it applies, the 1-based line number. :func:`clean_pairs` never drops a pair silently: it returns
counts and logs a summary on the ``nmt.data`` logger.
"""

from __future__ import annotations

import gzip
import logging
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from nmt.errors import UserError

__all__ = ["split_lines", "stream_lines", "read_lines", "read_parallel", "read_tsv", "clean_pairs", "CleanStats",
           "load_corpus"]

logger = logging.getLogger("nmt.data")

_GZIP_MAGIC = b"\x1f\x8b"
_UTF8_BOM = b"\xef\xbb\xbf"


def _read_bytes(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file; check the path") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a directory; give the path of a text file") from None
    except PermissionError:
        raise UserError(f"{path}: permission denied; make the file readable") from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise UserError(f"{path}: gzip data is truncated or corrupt ({e}); get a fresh copy of the file") from None
    if path.suffix == ".gz":
        raise UserError(f"{path}: named .gz but not gzip-compressed; rename it without .gz or compress it with gzip")
    return raw


def _check_not_utf16(raw: bytes, path) -> None:
    if raw[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        raise UserError(f"{path} is UTF-32 encoded; convert it to UTF-8 (for example: iconv -f UTF-32 -t UTF-8)")
    head = raw[:400]
    even, odd = (half.count(0) > 0.4 * len(head) / 2 for half in (head[0::2], head[1::2]))
    looks_utf16 = len(head) >= 4 and even != odd  # zeros in every other byte (all zeros: binary, not UTF-16)
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or looks_utf16:
        raise UserError(f"{path} is UTF-16 encoded; convert it to UTF-8 (for example: iconv -f UTF-16 -t UTF-8)")


def read_text(path: str | os.PathLike) -> str:
    """The text of a UTF-8 file (plain or gzip), checked and decoded by :func:`decode_text`.

    Gzip is recognised by the ``.gz`` suffix or the gzip magic bytes."""
    path = Path(path)
    return decode_text(_read_bytes(path), str(path))


def decode_text(raw: bytes, name: str) -> str:
    """``raw`` as text, the same for a file and for standard input (``name`` says which in errors).

    A UTF-8 byte-order mark is removed; line ends are left as they are, for :func:`split_lines` (which
    ends lines at ``\\n`` and ``\\r\\n`` only: normalising ``\\r\\n`` here as well would read a line ending
    in ``\\r`` before a CRLF as two line ends). Invalid UTF-8,
    NUL bytes and UTF-16/32 text raise :class:`UserError` naming the input and the line.
    """
    _check_not_utf16(raw, name)
    if raw.startswith(_UTF8_BOM):
        raw = raw[len(_UTF8_BOM):]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _not_utf8(name, raw.count(b"\n", 0, e.start) + 1) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise _nul_byte(name, text.count("\n", 0, nul) + 1)
    return text


def _not_utf8(name: str, line: int) -> UserError:
    return UserError(f"{name}: line {line} is not valid UTF-8; convert it to UTF-8 (for example with iconv)")


def _nul_byte(name: str, line: int) -> UserError:
    return UserError(f"{name}: line {line} contains a NUL byte; the input is binary or not UTF-8 text, "
                     "convert it to UTF-8 text")


def split_lines(text: str) -> list[str]:
    """The lines of ``text``: ``\\n`` and ``\\r\\n`` end a line, and nothing else does.

    A lone ``\\r``, ``\\v``, ``\\f``, ``\\x1c``-``\\x1e``, ``\\x85``, U+2028 and U+2029 (the other breaks of
    ``str.splitlines``) stay inside their line, so N lines in are N lines out, in order, on every path
    (files and standard input alike) and in every tool that counts lines the POSIX way (``wc -l``,
    ``paste``). A final terminator does not produce an extra empty line.
    """
    lines = text.split("\n")
    last = lines.pop()  # after the final \n: empty, or a last line without a terminator
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]  # \r\n ends these
    return lines + [last] if last else lines


MAX_LINE_BYTES = 1 << 20  # a longer "line" is not a sentence: an endless stream (/dev/zero) or a binary file


def stream_lines(stream: BinaryIO, name: str, max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[str]:
    """The lines of a binary stream (a pipe, standard input, an endless device), read in blocks, split
    exactly as :func:`split_lines` splits a whole text and checked as :func:`decode_text` checks one;
    memory stays bounded by ``max_line_bytes`` whatever the stream's length (a longer line is a UserError)."""
    pending, number, first = b"", 0, True
    while True:
        block = stream.read(1 << 16)
        while first and block and len(block) < 4 and (more := stream.read(1 << 16)):
            block += more  # a short first read (a pipe) still shows its byte-order mark whole
        if first:
            _check_not_utf16(block, name)
            block = block[len(_UTF8_BOM):] if block.startswith(_UTF8_BOM) else block
            first = False
        if not block:
            break
        if b"\x00" in block:  # binary (or /dev/zero): said at once, not after a megabyte
            raise _nul_byte(name, number + 1 + (pending + block)[: (pending + block).index(b"\x00")].count(b"\n"))
        *complete, pending = (pending + block).split(b"\n")
        for raw in complete:
            number += 1
            yield _decode_line(raw[:-1] if raw.endswith(b"\r") else raw, name, number)
        if len(pending) > max_line_bytes:
            raise UserError(f"{name}: line {number + 1} is longer than {max_line_bytes:,} bytes without a line end; "
                            "the input is not one sentence per line")
    if pending:
        yield _decode_line(pending, name, number + 1)


def _decode_line(raw: bytes, name: str, number: int) -> str:
    """One line of a stream (its block was already checked for NUL bytes)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _not_utf8(name, number) from None


def read_lines(path: str | os.PathLike) -> list[str]:
    """Return the lines of a UTF-8 text file (plain or gzip, see :func:`read_text`), split by :func:`split_lines`."""
    return split_lines(read_text(path))


def read_parallel(src_path: str | os.PathLike, tgt_path: str | os.PathLike) -> list[tuple[str, str]]:
    """Read two line-aligned files (sentence *i* of one translates line *i* of the other) into pairs."""
    src, tgt = read_lines(src_path), read_lines(tgt_path)
    if len(src) != len(tgt):
        raise UserError(
            f"{src_path} has {len(src)} lines but {tgt_path} has {len(tgt)} lines; "
            "parallel files must be aligned line by line with the same number of lines"
        )
    return list(zip(src, tgt))


def read_tsv(path: str | os.PathLike, src_column: int = 0, tgt_column: int = 1) -> list[tuple[str, str]]:
    """Read one (source, target) pair per line of a TAB-separated file.

    Columns are 0-based; extra columns (such as Tatoeba's attribution column) are ignored. A blank
    line becomes the pair ``("", "")`` so that :func:`clean_pairs` counts and reports it; any other line
    with too few columns raises :class:`UserError` naming the file and line.
    """
    for name, col in (("src_column", src_column), ("tgt_column", tgt_column)):
        if not isinstance(col, int) or isinstance(col, bool) or col < 0:
            raise UserError(f"{name} must be a column number >= 0 (0 is the first column), not {col!r}")
    if src_column == tgt_column:
        raise UserError(f"source and target column are both {src_column}; give two different TSV columns")
    need = max(src_column, tgt_column) + 1
    pairs = []
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            pairs.append(("", ""))
            continue
        fields = line.split("\t")
        if len(fields) < need:
            raise UserError(
                f"{path}: line {number} has {len(fields)} TAB-separated column(s) but {need} are needed; "
                "separate source and target with a TAB character"
            )
        pairs.append((fields[src_column], fields[tgt_column]))
    return pairs


@dataclass
class CleanStats:
    """Counts from :func:`clean_pairs`: ``total = kept + blank + too_long``."""

    total: int = 0
    kept: int = 0
    blank: int = 0
    too_long: int = 0
    max_words: int | None = None

    @property
    def dropped(self) -> int:
        return self.total - self.kept

    def summary(self) -> str:
        """One line, e.g. ``kept 998 of 1000 pairs (1 blank, 1 over 100 words)``."""
        parts = [f"{self.blank} blank"]
        if self.max_words is not None:
            parts.append(f"{self.too_long} over {self.max_words} words")
        return f"kept {self.kept} of {self.total} pairs ({', '.join(parts)})"


def clean_pairs(
    pairs, max_words: int | None = None, *, label: str | None = None
) -> tuple[list[tuple[str, str]], CleanStats]:
    """Normalise whitespace and drop unusable pairs; return ``(kept_pairs, stats)``. Items after a
    pair's two sides (its word links) stay with it unchanged: whitespace runs do not renumber words.

    Runs of whitespace (any Unicode whitespace) become one space and both ends are stripped. A pair is
    dropped when either side is then empty (counted as ``blank``) or, with ``max_words``, when either
    side has more than ``max_words`` whitespace-separated words (``too_long``). When anything is dropped
    the summary is logged at INFO on the ``nmt.data`` logger, prefixed with ``label`` if given.
    """
    if max_words is not None and (not isinstance(max_words, int) or isinstance(max_words, bool) or max_words < 1):
        raise UserError(f"max_words must be a whole number >= 1, not {max_words!r}")
    stats = CleanStats(max_words=max_words)
    kept = []
    for src, tgt, *rest in pairs:  # rest: what travels with a pair (its word links), kept as it is
        stats.total += 1
        src_words, tgt_words = src.split(), tgt.split()
        if not src_words or not tgt_words:
            stats.blank += 1
        elif max_words is not None and max(len(src_words), len(tgt_words)) > max_words:
            stats.too_long += 1
        else:
            kept.append((" ".join(src_words), " ".join(tgt_words), *rest))
    stats.kept = len(kept)
    if stats.dropped:
        logger.info("%s%s", f"{label}: " if label else "", stats.summary())
    return kept, stats


def load_corpus(spec) -> list[tuple[str, str]]:
    """Read a corpus given as ``(src_path, tgt_path)`` (aligned files) or as one TSV path."""
    if isinstance(spec, (str, os.PathLike)):
        return read_tsv(spec)
    if isinstance(spec, (tuple, list)) and len(spec) == 2:
        return read_parallel(*spec)
    raise UserError(f"a corpus is a (source file, target file) pair or one TSV file, not {spec!r}; "
                    "fix the corpus setting")
