"""Report provenance: paths as a reader can follow them, and the header a report starts with."""

from pathlib import Path

from nmt import benchinfo

ROOT = Path(__file__).resolve().parents[2]


def test_paths_are_named_relative_to_the_repository_or_shared(tmp_path):
    assert benchinfo.shown_path(ROOT / "results" / "demo.md") == "results/demo.md"
    assert benchinfo.shown_path(ROOT.parent / "shared" / "data" / "multi30k" / "train.en.gz") == "../shared/data/multi30k/train.en.gz"
    assert benchinfo.shown_path(tmp_path / "x") == str(tmp_path / "x")  # elsewhere: as given


def test_the_markdown_header_says_whether_the_tree_was_clean():
    dirty = benchinfo.markdown_header({"utc_date": "2026-11-30T12:00:00Z", "commit": "abc", "clean_tree": False})
    assert dirty == "Date (UTC): 2026-11-30T12:00:00Z; commit `abc` (UNCOMMITTED CHANGES)."
    assert "(clean tree)" in benchinfo.markdown_header({"utc_date": "d", "commit": "c", "clean_tree": True})
    assert "(not a git checkout)" in benchinfo.markdown_header({"utc_date": "d", "commit": None, "clean_tree": None})


def test_kept_hypotheses_read_back_line_for_line(tmp_path):
    import gzip

    texts = ["ein Hund .", "zwei\u2028Zeilen?", ""]
    shown = benchinfo.keep_hypotheses(tmp_path / "h" / "beam4.hyp.gz", texts)
    data = (tmp_path / "h" / "beam4.hyp.gz").read_bytes()
    assert gzip.decompress(data).decode("utf-8").split("\n")[:-1] == texts and shown == str(tmp_path / "h" / "beam4.hyp.gz")
    assert benchinfo.keep_hypotheses(tmp_path / "h" / "again.gz", texts) and (tmp_path / "h" / "again.gz").read_bytes() == data
