"""nmt align --score: AER of an existing file of links, without a model; the Hansards baselines' published AER."""

import re

import pytest

from nmt import alignment as al
from tests.integration.test_cli import one_line_error, run

SUMMARY = re.compile(r"^AER (\d\.\d{4})  precision (\d\.\d{4})  recall (\d\.\d{4})  \((\d+) links, "
                     r"(\d+) sure and (\d+) possible")


def published(readme: str) -> dict:
    """The README's table: file -> (AER, precision, recall) in %."""
    rows = re.findall(r"^\|[^|]*\| `([\w.-]+\.wa)` \| ([\d.]+) \| ([\d.]+) / ([\d.]+) \|$", readme, flags=re.M)
    return {name: tuple(float(v) for v in values) for name, *values in rows}


def test_published_aer_of_the_hansards_baselines(shared_data):
    """Scoring every baseline file against gold.wa reproduces the README's AER, precision and recall
    (in %, one decimal)."""
    folder = shared_data / "align" / "enfr_hansards"
    table = published((shared_data / "align" / "README.md").read_text(encoding="utf-8"))
    files = sorted(p.name for p in (folder / "baselines").glob("*.wa"))
    assert files and sorted(table) == files  # every file has its published row, and every row its file
    gold = folder / "gold.wa"
    for name in files:
        code, out, err = run(["align", "--score", str(folder / "baselines" / name), "--gold", str(gold),
                              "-s", str(folder / "test.en"), "-t", str(folder / "test.fr")])
        assert code == 0, err
        aer, precision, recall, links, sure, possible = (float(v) for v in SUMMARY.match(out).groups())
        assert (round(aer * 100, 1), round(precision * 100, 1), round(recall * 100, 1)) == table[name], name
        assert (sure, possible) == (4038, 4038 + 13400) and links > 0  # the README's gold counts


def test_score_reads_one_based_gold_and_checks_lengths(tmp_path):
    (tmp_path / "src").write_text("a b c\nd e\n")
    (tmp_path / "tgt").write_text("x y\nz\n")
    (tmp_path / "pred.wa").write_text("0-0 2-1\n1-0\n")
    (tmp_path / "gold0.wa").write_text("0-0 1p1 2-1\n1-0\n")
    (tmp_path / "gold1.wa").write_text("1-1 2p2 3-2\n2-1\n")
    expected = al.alignment_error_rate([{(0, 0), (2, 1)}, {(1, 0)}],
                                       [al.parse_pharaoh("0-0 1p1 2-1"), al.parse_pharaoh("1-0")])
    assert expected.aer == pytest.approx(0.0)
    outs = []
    for gold, base in (("gold0.wa", "0"), ("gold1.wa", "1")):
        code, out, err = run(["align", "--score", str(tmp_path / "pred.wa"), "--gold", str(tmp_path / gold),
                              "--gold-base", base, "-s", str(tmp_path / "src"), "-t", str(tmp_path / "tgt")])
        assert code == 0, err
        outs.append(out.strip())
    assert outs == [expected.summary()] * 2


def test_score_and_gold_base_user_errors(tmp_path):
    files = {"src": "a b c\nd e\n", "tgt": "x y\nz\n", "pred.wa": "0-0 2-1\n1-0\n", "gold.wa": "0-0 2-1\n1-0\n",
             "gold1.wa": "1-1 0-2\n2-1\n", "wide.wa": "0-0 2-1\n1-1\n", "short.wa": "0-0\n", "one.wa": "1-1 3-2\n2-1\n"}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    f = {name: str(tmp_path / name) for name in files}
    score = ["align", "--score", f["pred.wa"]]
    cases = [
        (score, "--score needs --gold FILE"),
        ([*score, "--gold", f["gold.wa"], str(tmp_path)], "without a model, so MODEL_DIR does not apply"),
        ([*score, "--gold", f["gold.wa"], "--layer", "1"], "so --layer does not apply"),
        ([*score, "--gold", f["gold.wa"], "--jsonl", f["src"] + ".jsonl"], "so --jsonl does not apply"),
        ([*score, "--gold", f["short.wa"]], f"{f['pred.wa']} has 2 lines but {f['short.wa']} has 1"),
        ([*score, "--gold", f["gold.wa"], "-s", f["src"], "-t", f["short.wa"]], "has 2 lines but"),
        ([*score, "--gold", f["gold1.wa"], "--gold-base", "1"], f"{f['gold1.wa']} line 1: link '0-2' numbers a word 0"),
        ([*score, "--gold", f["wide.wa"], "-s", f["src"], "-t", f["tgt"]],
         f"{f['wide.wa']} line 2: link '1-1' lies outside the sentence pair (2 source and 1 target words, "
         "numbered from 0)"),
        ([*score, "--gold", f["one.wa"], "-s", f["src"], "-t", f["tgt"]],  # a 1-based file read as 0-based
         f"{f['one.wa']} line 1: link '3-2' lies outside", "are its links 1-based?"),
        (["align", "--score", f["wide.wa"], "--gold", f["gold.wa"], "-t", f["tgt"]],
         f"{f['wide.wa']} line 2: link '1-1' lies outside"),
        (["align", "-s", f["src"]], "give MODEL_DIR and -s FILE to align with a model, or --score FILE --gold FILE"),
        (["align", str(tmp_path), "-s", f["src"], "-t", f["tgt"], "--gold", f["gold1.wa"], "--gold-base", "1"],
         "link '0-2' numbers a word 0"),  # checked before the model is loaded
        (["align", str(tmp_path), "-s", f["src"], "-t", f["tgt"], "--gold", f["one.wa"]], "link '3-2' lies outside"),
    ]
    for args, *needles in cases:
        code, _, err = run(args)
        one_line_error(code, err, *needles)
    code, _, err = run([*score, "--gold", f["gold.wa"], "--gold-base", "2"])
    assert code == 2 and "--gold-base" in err and "Traceback" not in err
