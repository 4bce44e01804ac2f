"""Classification metrics: accuracy, macro-F1, confusion matrix, per-class report, and a plot.

Computed with scikit-learn; :class:`Report` keeps them JSON-ready (``nmt classify evaluate --json``)
and prints a small table. Rows of the confusion matrix are true classes, columns predictions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Report:
    classes: list[str]
    examples: int
    accuracy: float
    macro_f1: float
    confusion: list[list[int]]  # [C,C] rows true, columns predicted
    per_class: dict[str, dict[str, float]]  # class -> precision, recall, f1, support

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """Accuracy and macro-F1, then one line per class."""
        width = max(len(c) for c in self.classes)
        lines = [f"accuracy {100 * self.accuracy:.2f}%  macro-F1 {100 * self.macro_f1:.2f}  "
                 f"({self.examples:,} examples)",
                 f"{'class':<{width}}  precision  recall     f1  support"]
        for c in self.classes:
            m = self.per_class[c]
            lines.append(f"{c:<{width}}  {100 * m['precision']:9.2f}  {100 * m['recall']:6.2f}  "
                         f"{100 * m['f1']:5.2f}  {int(m['support']):7,}")
        return "\n".join(lines)


def report(y_true, y_pred, classes) -> Report:
    """Metrics of predicted class indices ``y_pred`` [N] against ``y_true`` [N]."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = np.arange(len(classes))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return Report(
        classes=list(classes),
        examples=int(len(y_true)),
        accuracy=float(accuracy_score(y_true, y_pred)),
        macro_f1=float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        confusion=confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        per_class={c: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                   for c, p, r, f, s in zip(classes, precision, recall, f1, support)},
    )


def report_from_confusion(confusion, classes) -> Report:
    """The metrics of a confusion matrix [C,C] (rows true, columns predicted), for example one summed over
    the folds of a cross-validation, where every text is predicted exactly once."""
    counts = np.asarray(confusion, dtype=np.int64)  # [C,C]
    true, predicted = counts.sum(axis=1), counts.sum(axis=0)  # [C] each
    hits = np.diag(counts).astype(float)  # [C]
    precision = hits / np.maximum(predicted, 1)
    recall = hits / np.maximum(true, 1)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    return Report(classes=list(classes), examples=int(counts.sum()), accuracy=float(hits.sum() / max(counts.sum(), 1)),
                  macro_f1=float(f1.mean()), confusion=counts.tolist(),
                  per_class={c: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(n)}
                             for c, p, r, f, n in zip(classes, precision, recall, f1, true)})


def plot_confusion(rep: Report, path: str | Path, title: str | None = None) -> Path:
    """Confusion matrix as a heatmap (row-normalised colour, counts written in the cells); PNG or SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nmt.io import atomic_open

    counts = np.asarray(rep.confusion, dtype=float)  # [C,C]
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)  # [C,C] recall per row
    n = len(rep.classes)
    fig, ax = plt.subplots(figsize=(1.2 * n + 2.5, 1.1 * n + 1.8))
    ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), rep.classes, rotation=30, ha="right")
    ax.set_yticks(range(n), rep.classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{int(counts[i, j]):,}", ha="center", va="center",
                    color="white" if rates[i, j] > 0.5 else "black", fontsize=9)
    ax.set_title(title or f"accuracy {100 * rep.accuracy:.1f}%, macro-F1 {100 * rep.macro_f1:.1f}")
    fig.tight_layout()
    path = Path(path)
    fmt = "svg" if path.suffix.lower() == ".svg" else "png"
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format=fmt, dpi=150)
    plt.close(fig)
    return path
