"""Tests for nmt.corpora.parallel (reading corpora) and nmt.io (safe output files)."""

import gzip
import logging
import os
import stat
import threading
from pathlib import Path

import pytest

from nmt.corpora.parallel import CleanStats, clean_pairs, load_corpus, read_lines, read_parallel, read_tsv
from nmt.errors import UserError
from nmt.io import atomic_open, atomic_write_text, check_distinct_outputs, check_output_path


def write(path, data: bytes):
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- read_lines


def test_plain_lines_final_newline_gives_no_extra_line(tmp_path):
    assert read_lines(write(tmp_path / "a.txt", b"one\ntwo\n")) == ["one", "two"]
    assert read_lines(write(tmp_path / "b.txt", b"one\ntwo")) == ["one", "two"]
    assert read_lines(write(tmp_path / "c.txt", b"")) == []
    assert read_lines(write(tmp_path / "d.txt", b"one\n\nthree\n")) == ["one", "", "three"]


def test_gzip_by_suffix_and_by_magic(tmp_path):
    data = gzip.compress("Grüße\nzwei\n".encode())
    assert read_lines(write(tmp_path / "x.de.gz", data)) == ["Grüße", "zwei"]
    assert read_lines(write(tmp_path / "no_suffix.de", data)) == ["Grüße", "zwei"]


def test_gz_suffix_on_plain_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match=r"x\.gz: named \.gz but not gzip-compressed"):
        read_lines(write(tmp_path / "x.gz", b"plain\n"))


def test_truncated_gzip_is_a_user_error(tmp_path):
    data = gzip.compress(b"hello world\n" * 100)
    with pytest.raises(UserError, match="truncated or corrupt"):
        read_lines(write(tmp_path / "t.gz", data[: len(data) // 2]))


def test_utf8_bom_is_stripped_from_first_line(tmp_path):
    lines = read_lines(write(tmp_path / "bom.txt", b"\xef\xbb\xbfHello\nWorld\n"))
    assert lines == ["Hello", "World"]


def test_crlf_and_mixed_line_endings_and_a_lone_cr_stays_in_its_line(tmp_path):
    assert read_lines(write(tmp_path / "crlf.txt", b"a b\r\nc d\r\n")) == ["a b", "c d"]
    assert read_lines(write(tmp_path / "cr.txt", b"a\rb\rc")) == ["a\rb\rc"]  # \n and \r\n only: as wc -l counts
    assert read_lines(write(tmp_path / "mix.txt", b"a\r\nb\nc\rd\n")) == ["a", "b", "c\rd"]


def test_unicode_line_separators_do_not_split_lines(tmp_path):
    text = "one\u2028still one\x0cand\x85more\ntwo\n"
    assert read_lines(write(tmp_path / "u.txt", text.encode())) == ["one\u2028still one\x0cand\x85more", "two"]


def test_invalid_utf8_names_file_and_line(tmp_path):
    path = write(tmp_path / "latin1.txt", "ok\nfine\ncaf\u00e9\n".encode("latin-1"))
    with pytest.raises(UserError) as err:
        read_lines(path)
    msg = str(err.value)
    assert msg == f"{path}: line 3 is not valid UTF-8; convert it to UTF-8 (for example with iconv)"
    assert "\n" not in msg


def test_invalid_utf8_line_number_counts_crlf_once_and_inside_gzip(tmp_path):
    path = write(tmp_path / "bad.gz", gzip.compress(b"a\r\nb\r\n\xff\r\n"))
    with pytest.raises(UserError, match=r"bad\.gz: line 3 is not valid UTF-8"):
        read_lines(path)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-16-le"])
def test_utf16_is_detected(tmp_path, encoding):
    data = "Hello world\nsecond line\n".encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path = write(tmp_path / "u16.txt", data)
    with pytest.raises(UserError, match=r"u16\.txt is UTF-16 encoded; convert it to UTF-8"):
        read_lines(path)


def test_nul_byte_names_file_and_line(tmp_path):
    with pytest.raises(UserError, match=r"nul\.txt: line 2 contains a NUL byte"):
        read_lines(write(tmp_path / "nul.txt", b"fine\nbro\x00ken\n"))


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(UserError, match=r"nothere\.txt: no such file"):
        read_lines(tmp_path / "nothere.txt")
    with pytest.raises(UserError, match="is a directory"):
        read_lines(tmp_path)


# ---------------------------------------------------------------- read_parallel / read_tsv


def test_read_parallel_pairs_lines(tmp_path):
    src = write(tmp_path / "s.en", b"a\nb\n")
    tgt = write(tmp_path / "t.de.gz", gzip.compress(b"x\ny\n"))
    assert read_parallel(src, tgt) == [("a", "x"), ("b", "y")]


def test_read_parallel_length_mismatch_names_both_files_and_counts(tmp_path):
    src = write(tmp_path / "train.en", b"a\nb\nc\n")
    tgt = write(tmp_path / "train.de", b"x\ny\n")
    with pytest.raises(UserError) as err:
        read_parallel(src, tgt)
    msg = str(err.value)
    assert f"{src} has 3 lines" in msg and f"{tgt} has 2 lines" in msg


def test_read_tsv_ignores_extra_columns_and_selects_columns(tmp_path):
    path = write(tmp_path / "spa.txt",
                 b"Go.\tVe.\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272\nHi.\tHola.\tCC-BY\n")
    assert read_tsv(path) == [("Go.", "Ve."), ("Hi.", "Hola.")]
    assert read_tsv(path, src_column=1, tgt_column=0) == [("Ve.", "Go."), ("Hola.", "Hi.")]


def test_read_tsv_too_few_columns_names_file_and_line(tmp_path):
    path = write(tmp_path / "pairs.tsv", b"a\tb\nc d\n")
    with pytest.raises(UserError, match=r"pairs\.tsv: line 2 has 1 TAB-separated column\(s\) but 2 are needed"):
        read_tsv(path)


def test_read_tsv_blank_line_becomes_blank_pair_and_bad_columns_rejected(tmp_path):
    path = write(tmp_path / "p.tsv", b"a\tb\n\nc\td\n")
    assert read_tsv(path) == [("a", "b"), ("", ""), ("c", "d")]
    with pytest.raises(UserError, match="two different TSV columns"):
        read_tsv(path, 1, 1)
    with pytest.raises(UserError, match="src_column must be"):
        read_tsv(path, -1, 1)


def test_load_corpus_tuple_and_tsv(tmp_path):
    src, tgt = write(tmp_path / "s", b"a\n"), write(tmp_path / "t", b"b\n")
    tsv = write(tmp_path / "p.tsv", b"a\tb\n")
    assert load_corpus((src, tgt)) == load_corpus(str(tsv)) == load_corpus(tsv) == [("a", "b")]
    with pytest.raises(UserError, match="pair or one TSV file"):
        load_corpus((src,))


# ---------------------------------------------------------------- clean_pairs


def test_clean_pairs_counts_normalises_and_logs(caplog):
    pairs = [("  a   b ", "x\t y"), ("", "y"), ("c", "   "), ("w " * 5, "z"), ("ok", "fine")]
    with caplog.at_level(logging.INFO, logger="nmt.data"):
        kept, stats = clean_pairs(pairs, max_words=4)
    assert kept == [("a b", "x y"), ("ok", "fine")]
    assert (stats.total, stats.kept, stats.blank, stats.too_long) == (5, 2, 2, 1)
    assert stats.summary() == "kept 2 of 5 pairs (2 blank, 1 over 4 words)"
    records = [r for r in caplog.records if r.name == "nmt.data"]
    assert [r.getMessage() for r in records] == ["kept 2 of 5 pairs (2 blank, 1 over 4 words)"]
    assert records[0].levelno == logging.INFO


def test_clean_pairs_logs_nothing_when_nothing_dropped(caplog):
    with caplog.at_level(logging.INFO, logger="nmt.data"):
        kept, stats = clean_pairs([("a", "b")])
    assert kept == [("a", "b")] and stats == CleanStats(total=1, kept=1)
    assert stats.summary() == "kept 1 of 1 pairs (0 blank)"
    assert not [r for r in caplog.records if r.name == "nmt.data"]


def test_clean_pairs_label_and_bad_max_words(caplog):
    with caplog.at_level(logging.INFO, logger="nmt.data"):
        clean_pairs([("", "")], label="train.tsv")
    assert "train.tsv: kept 0 of 1 pairs (1 blank)" in caplog.text
    with pytest.raises(UserError, match="max_words"):
        clean_pairs([], max_words=0)


# ---------------------------------------------------------------- nmt.io


def test_atomic_open_replaces_on_success(tmp_path):
    out = write(tmp_path / "out.txt", b"old\n")
    with atomic_open(out) as f:
        f.write("new\n")
        assert out.read_text() == "old\n"  # not visible before the block ends
    assert out.read_text() == "new\n"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_atomic_open_leaves_no_file_on_exception(tmp_path):
    out = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_open(out, "wb") as f:
            f.write(b"half")
            raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []
    existing = write(tmp_path / "keep.txt", b"keep\n")
    with pytest.raises(KeyboardInterrupt):
        with atomic_open(existing) as f:
            f.write("half")
            raise KeyboardInterrupt
    assert existing.read_bytes() == b"keep\n" and os.listdir(tmp_path) == ["keep.txt"]


def test_atomic_write_text_mode_newlines_and_missing_dir(tmp_path):
    out = atomic_write_text(tmp_path / "a.txt", "x\ny\n")
    assert out.read_bytes() == b"x\ny\n"
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~mask  # not mkstemp's 0600
    with pytest.raises(UserError, match="does not exist"):
        atomic_write_text(tmp_path / "no" / "a.txt", "x")


def test_check_output_path(tmp_path):
    inp = write(tmp_path / "in.txt", b"x\n")
    assert check_output_path(tmp_path / "out.txt", [inp]) == tmp_path / "out.txt"
    with pytest.raises(UserError, match="same file as input"):
        check_output_path(inp, [inp])
    (tmp_path / "sub").mkdir()
    with pytest.raises(UserError, match="same file as input"):
        check_output_path(tmp_path / "sub" / ".." / "in.txt", [str(inp)])
    os.symlink(inp, tmp_path / "link.txt")
    with pytest.raises(UserError, match="same file as input"):
        check_output_path(tmp_path / "link.txt", [inp])
    with pytest.raises(UserError, match="does not exist"):
        check_output_path(tmp_path / "missing" / "out.txt")
    with pytest.raises(UserError, match="is a directory"):
        check_output_path(tmp_path / "sub")


# ---------------------------------------------------------------- outputs that are devices or pipes
def test_a_device_output_is_written_in_place_not_replaced_by_a_file():
    assert check_output_path("/dev/null") == Path("/dev/null")
    with atomic_open("/dev/null") as f:
        f.write("gone\n")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)  # still the device (as root, a rename would replace it)


def test_a_named_pipe_output_receives_the_text_and_stays_a_pipe(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    with atomic_open(fifo) as f:
        f.write("one\ntwo\n")
    reader.join(timeout=30)
    assert received == ["one\ntwo\n"] and stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]  # no temporary file left beside it


def test_two_output_options_naming_one_file_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match="--output and --jsonl both name"):
        check_distinct_outputs(output="out.txt", jsonl=str(tmp_path / "sub" / ".." / "out.txt"), npz=None)
    check_distinct_outputs(output="-", jsonl="-", npz="/dev/null", plot="/dev/null")  # stdout and devices repeat
    check_distinct_outputs(output="a.txt", jsonl="b.txt")
