"""Classification data readers, stratified folds and metrics (no TensorFlow)."""

import gzip

import numpy as np
import pytest

from nmt.classification.data import (
    AG_NEWS_CLASSES,
    clean_ag_news,
    read_ag_news,
    read_ag_news_dir,
    read_table,
    stratified_folds,
    stratified_split,
)
from nmt.classification.metrics import plot_confusion, report, report_from_confusion
from nmt.errors import UserError

AG_ROWS = (
    '"3","Fears for T N pension after talks","Unions representing workers at Turner   Newall say they are '
    '\'disappointed\' after talks."\n'
    '"4","The Race is On (SPACE.com)","SPACE.com - A second\\team of rocketeers competing for the  #36;10 million '
    'Ansari X Prize, a contest for\\privately funded flight."\n'
    '"2","Quotes ""inside"" a title","line one\nstill the same field &lt;b&gt;"\n'
)


def test_ag_news_rows_classes_and_cleaning(tmp_path):
    path = tmp_path / "test.csv.gz"
    path.write_bytes(gzip.compress(AG_ROWS.encode()))
    data = read_ag_news(path)
    assert data.classes == AG_NEWS_CLASSES
    assert data.labels.tolist() == [2, 3, 1]  # classes 1-4 become indices 0-3
    assert data.texts[0].startswith("Fears for T N pension after talks Unions representing workers at Turner Newall")
    # "\" joins lines, " #36;" is "$", quotes are un-doubled, a quoted newline stays in one field.
    assert "A second team of rocketeers competing for the $10 million" in data.texts[1]
    assert "contest for privately funded" in data.texts[1]
    assert data.texts[2] == 'Quotes "inside" a title line one still the same field <b>'
    assert data.counts() == {"World": 0, "Sports": 1, "Business": 1, "Sci/Tech": 1}


def test_clean_ag_news_keeps_ordinary_text():
    assert clean_ag_news("Oil  prices rise #39;again#39;") == "Oil prices rise'again'"
    assert clean_ag_news("plain text") == "plain text"


@pytest.mark.parametrize("rows, message", [
    ('"5","t","d"\n', "class '5'"),
    ('"x","t","d"\n', "class 'x'"),
    ('"1","only two"\n', "2 fields"),
    ("", "no rows"),
])
def test_ag_news_bad_rows(tmp_path, rows, message):
    path = tmp_path / "train.csv"
    path.write_text(rows)
    with pytest.raises(UserError, match=message):
        read_ag_news(path)


def test_ag_news_dir_reads_classes_file_and_names_missing_split(tmp_path):
    (tmp_path / "test.csv").write_text('"1","a","b"\n"2","c","d"\n')
    (tmp_path / "classes.txt").write_text("W\nS\nB\nT\n")
    data = read_ag_news_dir(tmp_path, "test")
    assert data.classes == ("W", "S", "B", "T") and data.labels.tolist() == [0, 1]
    with pytest.raises(UserError, match="no train.csv or train.csv.gz.*nmt data fetch ag_news"):
        read_ag_news_dir(tmp_path, "train")


def test_table_by_header_name_tsv_and_number(tmp_path):
    csv_path = tmp_path / "d.csv"
    csv_path.write_text('id,label,text\n1,pos,"good, very good"\n2,neg,bad\n3,pos,fine\n')
    data = read_table(csv_path, "text", "label")
    assert data.texts == ["good, very good", "bad", "fine"]
    assert data.classes == ("neg", "pos") and data.labels.tolist() == [1, 0, 1]
    tsv = tmp_path / "d.tsv"
    tsv.write_text("neg\tbad one\npos\tgood one\n")
    data = read_table(tsv, "2", "1")  # numbers: no header row
    assert data.texts == ["bad one", "good one"] and data.labels.tolist() == [0, 1]
    # The model's classes fix the order; an unseen label is refused.
    data = read_table(tsv, "2", "1", classes=("pos", "neg"))
    assert data.labels.tolist() == [1, 0]
    with pytest.raises(UserError, match="not among the classes"):
        read_table(tsv, "2", "1", classes=("pos", "other"))


@pytest.mark.parametrize("size", [131_073, 360_000])
def test_a_text_longer_than_the_csv_modules_default_field_limit_reads(tmp_path, size):
    long = ("word " * size)[: size - 1] + "!"  # Python's csv refuses fields over 131,072 characters by default
    path = tmp_path / "long.csv"
    path.write_text(f'text,label\n"{long}",a\nshort,b\n')
    data = read_table(path, "text", "label")
    assert data.texts[0] == long
    assert data.classes == ("a", "b")


@pytest.mark.parametrize("content, args, message", [
    ("text,label\nhello,a\n", ("body", "label"), "no column named 'body'"),
    ("text,label\nhello,a\nbye,a\n", ("text", "label"), "only one class"),
    ("text,label\n", ("text", "label"), "no data rows"),
    ("text,label\nhello\n", ("text", "label"), "row 2 has 1 fields"),
    ("a\tb\n", ("0", "1"), "counts from 1"),
])
def test_table_errors(tmp_path, content, args, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(UserError, match=message):
        read_table(path, *args)


def test_table_refuses_utf16(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes("text,label\nhi,a\nyo,b\n".encode("utf-16"))
    with pytest.raises(UserError, match="UTF-16"):
        read_table(path)


def test_stratified_folds_partition_and_balance():
    labels = np.repeat(np.arange(4), 25)  # 100 examples, 25 per class
    folds = stratified_folds(labels, 5, seed=0)
    assert len(folds) == 5
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested.tolist()) == list(range(100))  # every example tested exactly once
    for train, test in folds:
        assert not set(train) & set(test)
        assert np.bincount(labels[test]).tolist() == [5, 5, 5, 5]
    again = stratified_folds(labels, 5, seed=0)
    assert all((a[1] == b[1]).all() for a, b in zip(folds, again))  # the same folds for every model
    with pytest.raises(UserError, match="5 examples of every class"):
        stratified_folds(np.array([0, 0, 1, 1, 1, 1, 1]), 5)


def test_stratified_split_keeps_class_shares():
    labels = np.repeat(np.arange(4), 50)
    train, test = stratified_split(labels, 0.2, seed=0)
    assert len(test) == 40 and np.bincount(labels[test]).tolist() == [10, 10, 10, 10]
    assert not set(train) & set(test) and len(train) + len(test) == 200
    with pytest.raises(UserError):
        stratified_split(labels, 1.5)


def test_report_metrics_by_hand(tmp_path):
    y_true = [0, 0, 0, 1, 1, 2]
    y_pred = [0, 0, 1, 1, 2, 2]
    rep = report(y_true, y_pred, ["a", "b", "c"])
    assert rep.accuracy == pytest.approx(4 / 6)
    assert rep.confusion == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    # a: p 2/2, r 2/3 -> f1 0.8; b: p 1/2, r 1/2 -> 0.5; c: p 1/2, r 1 -> 2/3
    assert rep.per_class["a"]["f1"] == pytest.approx(0.8)
    assert rep.per_class["c"]["recall"] == pytest.approx(1.0)
    assert rep.macro_f1 == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert rep.per_class["b"]["support"] == 2
    assert "accuracy 66.67%" in rep.summary()
    out = plot_confusion(rep, tmp_path / "cm.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in plot_confusion(rep, tmp_path / "cm.svg").read_bytes()[:500]


def test_report_from_a_summed_confusion_matrix_equals_the_report_of_all_predictions():
    """Cross-validation sums the folds' confusion matrices; the metrics of the sum are those of every
    prediction at once (a class never predicted gets precision 0, as scikit-learn's zero_division=0)."""
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 4, 300), rng.integers(0, 3, 300)  # class 3 never predicted
    folds = [report(y_true[i::3], y_pred[i::3], list("abcd")) for i in range(3)]
    summed = report_from_confusion(sum(np.asarray(f.confusion) for f in folds), list("abcd"))
    whole = report(y_true, y_pred, list("abcd"))
    assert summed.confusion == whole.confusion and summed.examples == 300
    assert summed.accuracy == pytest.approx(whole.accuracy)
    assert summed.macro_f1 == pytest.approx(whole.macro_f1)
    for c in "abcd":
        for key in ("precision", "recall", "f1", "support"):
            assert summed.per_class[c][key] == pytest.approx(whole.per_class[c][key])


def test_an_empty_label_and_a_class_of_one_example_are_one_line_errors(tmp_path):
    from nmt.classification.data import read_table, stratified_split
    from nmt.errors import UserError

    (tmp_path / "empty.csv").write_text("text,label\nsome words,World\nmore words, \n")
    with pytest.raises(UserError, match="row 3 has an empty label"):
        read_table(tmp_path / "empty.csv")
    labels = [0] * 10 + [1] * 10 + [2]
    with pytest.raises(UserError, match="class 'Sports' has only one example"):
        stratified_split(labels, 0.1, 0, ("World", "Business", "Sports"))
    with pytest.raises(UserError, match="cannot hold out 0.01 of 20 examples"):
        stratified_split([0] * 10 + [1] * 10, 0.01)
