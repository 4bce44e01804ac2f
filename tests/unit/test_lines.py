"""Line integrity: N lines in, N lines out, in order, on every reading path and through every writer.

Only ``\\n`` and ``\\r\\n`` end a line. Every other character Python's ``str.splitlines`` breaks on
(a lone ``\\r``, ``\\v``, ``\\f``, ``\\x1c``-``\\x1e``, ``\\x85``, U+2028, U+2029) stays inside its line,
whether the text comes from a file or from standard input; a writer never lets an item spill onto
two lines.
"""

import io
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given, settings, strategies as st

from nmt.cli.common import read_text_input
from nmt.corpora.parallel import read_lines, split_lines
from nmt.errors import UserError
from nmt.io import lines_text

# Every character that str.splitlines treats as a line break, \n among them (computed, not listed).
BREAKS = [c for c in map(chr, range(0x110000)) if len(f"a{c}b".splitlines()) == 2]
# NUL is refused as binary input (tested below), so it is not drawn.
CHARS = st.one_of(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), st.sampled_from(BREAKS))
LINES = st.lists(st.text(CHARS, max_size=12).map(lambda s: s.replace("\n", "")), max_size=12)


def test_the_break_characters_are_the_ones_documented():
    assert BREAKS == ["\n", "\x0b", "\x0c", "\r", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def _paths(text: str, data: bytes | None = None) -> list[list[str]]:
    """The lines of ``text`` as each reading path sees them: split_lines, a file, standard input."""
    data = text.encode("utf-8") if data is None else data
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "in.txt").write_bytes(data)
        from_file = read_lines(Path(d) / "in.txt")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
        from_stdin = read_text_input("-")
    return [split_lines(text) if text or not data else from_file, from_file, from_stdin]


@settings(max_examples=150, deadline=None)
@given(lines=LINES, crlf=st.booleans(), final=st.booleans())
@example(lines=["\r", ""], crlf=True, final=False)  # found by CI: "\r\r\n" once read as two line ends
def test_n_lines_in_n_lines_out_from_files_and_stdin_alike(lines, crlf, final):
    final = final or (lines and lines[-1] == "")  # a last empty line exists only through its terminator
    end = "\r\n" if crlf else "\n"
    text = end.join(lines) + (end if final and lines else "")
    if crlf:
        want = lines
    else:  # a line's own trailing \r before its \n reads as a CRLF ending: the one thing \n files lose
        ended = len(lines) if final else len(lines) - 1
        want = [line[:-1] if i < ended and line.endswith("\r") else line for i, line in enumerate(lines)]
    for got in _paths(text):
        assert got == want


@settings(max_examples=150, deadline=None)
@given(items=st.lists(st.text(CHARS, max_size=12), max_size=12))
def test_a_writer_puts_every_item_on_exactly_one_line(items):
    text = lines_text(items)
    assert text.count("\n") == len(items)
    for got in _paths(text):
        assert got == [item.replace("\r\n", " ").replace("\n", " ").replace("\r", " ") for item in items]


@pytest.mark.parametrize("data, error", [
    (b"ab\ncd\x00ef\n", "line 2 contains a NUL byte"),
    (b"ab\ncd\n\xff\n", "line 3 is not valid UTF-8"),
    ("ab\ncd\n".encode("utf-16"), "is UTF-16 encoded"),
])
def test_files_and_stdin_refuse_the_same_inputs_with_the_same_words(data, error):
    messages = []
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "in.txt").write_bytes(data)
        with pytest.raises(UserError) as e:
            read_lines(Path(d) / "in.txt")
        messages.append(str(e.value).replace(str(Path(d) / "in.txt"), "INPUT"))
    with pytest.MonkeyPatch.context() as mp, pytest.raises(UserError) as e:
        mp.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
        read_text_input("-")
    messages.append(str(e.value).replace("standard input", "INPUT"))
    assert messages[0] == messages[1] and error in messages[0]


def test_a_byte_order_mark_and_crlf_read_the_same_from_both():
    data = b"\xef\xbb\xbfone\r\ntwo\rstill two\r\n"
    assert all(got == ["one", "two\rstill two"] for got in _paths("", data))


class _Chunked(io.RawIOBase):
    """A stream that hands out its bytes in the given chunk sizes, as a pipe may (short reads)."""

    def __init__(self, data: bytes, sizes):
        self.data, self.sizes, self.pos = data, list(sizes) or [1], 0

    def read(self, n=-1):
        size = self.sizes[self.pos % len(self.sizes)] if self.pos < len(self.data) else 0
        out = self.data[self.pos:self.pos + min(size, n if n >= 0 else size)]
        self.pos += len(out)
        return out


@settings(max_examples=150, deadline=None)
@given(lines=LINES, crlf=st.booleans(), bom=st.booleans(), sizes=st.lists(st.integers(1, 7), min_size=1, max_size=5))
@example(lines=["\r"], crlf=False, bom=False, sizes=[1])  # found with one thread: "\r" + "\n" is a CRLF
def test_a_stream_read_in_any_chunks_splits_like_a_whole_text(lines, crlf, bom, sizes):
    from nmt.corpora.parallel import decode_text, stream_lines

    data = (b"\xef\xbb\xbf" if bom else b"") + "".join(
        line + ("\r\n" if crlf else "\n") for line in lines).encode("utf-8")
    whole = split_lines(decode_text(data, "pipe"))
    assert list(stream_lines(_Chunked(data, sizes), "pipe")) == whole
    if crlf or not any(line.endswith("\r") for line in lines):  # a line ending in \r before \n wrote a CRLF
        assert whole == lines


def test_an_endless_stream_is_read_lazily_and_a_line_without_end_is_refused():
    from itertools import islice

    from nmt.corpora.parallel import stream_lines

    class Endless(io.RawIOBase):
        def __init__(self, pattern):
            self.pattern = pattern

        def read(self, n=-1):
            return (self.pattern * (n // len(self.pattern) + 1))[:n]

    assert list(islice(stream_lines(Endless(b"ab cd\n"), "yes"), 3)) == ["ab cd"] * 3
    with pytest.raises(UserError, match="line 1 is longer than 1,048,576 bytes without a line end"):
        next(stream_lines(Endless(b"ab "), "endless"))
    with pytest.raises(UserError, match="line 1 contains a NUL byte"):
        next(stream_lines(Endless(b"\x00"), "/dev/zero"))
