"""Labelled text for classification: AG News, any CSV/TSV file, stratified folds and splits.

AG News comes in the canonical ``ag_news_csv`` format (Zhang et al. 2015): no header, every field
double-quoted, columns class (1-4), title, description; ``classes.txt`` names the classes (World,
Sports, Business, Sci/Tech). A text is ``title + " " + description`` after :func:`clean_ag_news`.
Any other labelled data comes as CSV or TSV with the text and label columns named (header) or
numbered from 1.

Labels are kept as class indices into a ``classes`` list. Files read here go through
:func:`nmt.corpora.parallel.read_text`, so gzip, BOMs, CRLF, invalid UTF-8 and UTF-16 are handled
(or refused with one line) the same way as for translation corpora.
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nmt.corpora.parallel import read_text
from nmt.errors import UserError

AG_NEWS_CLASSES = ("World", "Sports", "Business", "Sci/Tech")
_ENTITY = re.compile(r" ?#(\d+);")  # the corpus writes &#36; as " #36;" and &#39; as "#39;"


@dataclass(frozen=True)
class LabelledTexts:
    """``texts`` [N] with ``labels`` [N] (indices into ``classes``)."""

    texts: list[str]
    labels: np.ndarray  # [N] int64
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices) -> LabelledTexts:
        indices = np.asarray(indices)
        return LabelledTexts([self.texts[i] for i in indices], self.labels[indices], self.classes)

    def counts(self) -> dict[str, int]:
        """Examples per class, in class order."""
        return {c: int(n) for c, n in zip(self.classes, np.bincount(self.labels, minlength=len(self.classes)))}


def clean_ag_news(text: str) -> str:
    """Undo the AG News CSV's escapes: ``\\`` joins lines (-> space), ``#36;``-style numeric entities
    (-> the character), HTML entities (``&lt;`` ...), runs of spaces (-> one)."""
    text = text.replace("\\", " ")
    text = _ENTITY.sub(lambda m: chr(int(m.group(1))) if int(m.group(1)) < 0x110000 else m.group(0), text)
    return " ".join(html.unescape(text).split())


def _rows(path: Path, delimiter: str) -> list[list[str]]:
    text = read_text(path)
    # The csv module refuses fields over 128 KiB by default; the text is in memory already, so no field
    # can be longer than it and the limit guards nothing here.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    try:
        return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter, strict=True) if row]
    except csv.Error as e:
        raise UserError(f"{path}: not valid {'TSV' if delimiter == chr(9) else 'CSV'} ({e}); "
                        "check the quoting") from None


def read_classes(path: str | os.PathLike) -> tuple[str, ...]:
    """Class names, one per line (AG News ``classes.txt``)."""
    from nmt.corpora.parallel import read_lines

    names = tuple(line.strip() for line in read_lines(path) if line.strip())
    if not names:
        raise UserError(f"{path} names no classes; give one class name per line")
    return names


def read_ag_news(path: str | os.PathLike, classes: tuple[str, ...] = AG_NEWS_CLASSES) -> LabelledTexts:
    """One ``ag_news_csv`` file (train.csv or test.csv, optionally .gz)."""
    path = Path(path)
    texts, labels = [], []
    for number, row in enumerate(_rows(path, ","), 1):
        if len(row) != 3:
            raise UserError(f"{path}: row {number} has {len(row)} fields, AG News rows have 3 (class, title, "
                            "description)")
        label = row[0].strip()
        if not label.isdigit() or not 1 <= int(label) <= len(classes):
            raise UserError(f"{path}: row {number} has class {label!r}; AG News classes are 1 to {len(classes)}")
        texts.append(clean_ag_news(f"{row[1]} {row[2]}"))
        labels.append(int(label) - 1)
    if not texts:
        raise UserError(f"{path} has no rows")
    return LabelledTexts(texts, np.asarray(labels, np.int64), tuple(classes))


def find_split(directory: str | os.PathLike, split: str) -> Path:
    """``DIR/SPLIT.csv`` or ``DIR/SPLIT.csv.gz``."""
    directory = Path(directory)
    for name in (f"{split}.csv", f"{split}.csv.gz"):
        if (directory / name).is_file():
            return directory / name
    raise UserError(f"{directory} has no {split}.csv or {split}.csv.gz; "
                    f"get AG News with 'nmt data fetch ag_news --out {directory}' (or --from a local copy)")


def read_ag_news_dir(directory: str | os.PathLike, split: str) -> LabelledTexts:
    """A split of an AG News directory; class names from its ``classes.txt`` when present."""
    directory = Path(directory)
    classes = read_classes(directory / "classes.txt") if (directory / "classes.txt").is_file() else AG_NEWS_CLASSES
    return read_ag_news(find_split(directory, split), classes)


def _column(spec: str, header: list[str] | None, path: Path, what: str) -> int:
    """A column given by header name or 1-based number -> 0-based index."""
    if spec.isdigit():
        index = int(spec) - 1
        if index < 0:
            raise UserError(f"--{what}-column counts from 1, got {spec}")
        return index
    if header is None or spec not in header:
        found = ", ".join(header) if header else "the file has no header row"
        raise UserError(f"{path}: no column named {spec!r} for --{what}-column ({found}); "
                        "give a name or a number from 1")
    return header.index(spec)


def read_table(path: str | os.PathLike, text_column: str = "text", label_column: str = "label",
               delimiter: str | None = None, classes: tuple[str, ...] | None = None) -> LabelledTexts:
    """Labelled texts from a CSV or TSV file (``.tsv``/``.tab`` or ``delimiter="\\t"``: TSV).

    Columns are header names or numbers from 1; with names the first row is the header, with two
    numbers there is no header. Labels are strings; ``classes`` fixes their order (a label outside
    it is an error: evaluation data must use the model's classes), otherwise classes are sorted.
    """
    path = Path(path)
    if delimiter is None:
        suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
        delimiter = "\t" if suffixes and suffixes[-1] in (".tsv", ".tab") else ","
    rows = _rows(path, delimiter)
    named = not (text_column.isdigit() and label_column.isdigit())
    header = rows[0] if named and rows else None
    body = rows[1:] if header is not None else rows
    t, lab = _column(text_column, header, path, "text"), _column(label_column, header, path, "label")
    texts, raw_labels = [], []
    for number, row in enumerate(body, 2 if header is not None else 1):
        if max(t, lab) >= len(row):
            raise UserError(f"{path}: row {number} has {len(row)} fields, fewer than the text and label columns need")
        if not row[lab].strip():
            raise UserError(f"{path}: row {number} has an empty label; give every row a class")
        texts.append(row[t])
        raw_labels.append(row[lab].strip())
    if not texts:
        raise UserError(f"{path} has no data rows")
    if classes is None:
        classes = tuple(sorted(set(raw_labels)))
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted(set(raw_labels) - set(index))
    if unknown:
        raise UserError(f"{path}: labels {', '.join(map(repr, unknown[:5]))} are not among the classes "
                        f"({', '.join(classes)}); use the classes the model was trained on")
    if len(classes) < 2:
        raise UserError(f"{path}: only one class ({classes[0]!r}); a classifier needs at least two")
    return LabelledTexts(texts, np.asarray([index[x] for x in raw_labels], np.int64), tuple(classes))


def stratified_folds(labels, folds: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train indices, test indices) of each of ``folds`` stratified folds (scikit-learn's
    ``StratifiedKFold(shuffle=True, random_state=seed)``: the benchmark protocol's folds)."""
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels)
    smallest = int(np.unique(labels, return_counts=True)[1].min()) if len(labels) else 0
    if folds < 2 or smallest < folds:
        raise UserError(f"{folds}-fold cross-validation needs at least 2 folds and {folds} examples of every class "
                        f"(the smallest class has {smallest})")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return [(train, test) for train, test in splitter.split(np.zeros(len(labels)), labels)]


def stratified_split(labels, test_fraction: float = 0.2, seed: int = 0, classes=()) -> tuple[np.ndarray, np.ndarray]:
    """One fixed stratified split: (train indices, test indices), each sorted; ``classes`` names the
    label numbers in errors."""
    from sklearn.model_selection import train_test_split

    if not 0 < test_fraction < 1:
        raise UserError(f"the held-out fraction must be between 0 and 1, got {test_fraction}")
    labels = np.asarray(labels)
    values, counts = np.unique(labels, return_counts=True)
    if len(counts) and counts.min() < 2:
        rare = values[counts.argmin()]
        raise UserError(f"class {classes[rare] if len(classes) > rare else rare!r} has only one example, and a "
                        "stratified held-out share needs two of every class; add examples, give a validation file, "
                        "or hold out nothing (fraction 0)")
    try:
        train, test = train_test_split(np.arange(len(labels)), test_size=test_fraction, random_state=seed,
                                       stratify=labels)
    except ValueError as exc:  # e.g. a share too small to hold one example of every class
        raise UserError(f"cannot hold out {test_fraction:g} of {len(labels)} examples stratified by class: "
                        f"{exc}") from None
    return np.sort(train), np.sort(test)
