"""Attention as word alignment, in one package.

* :mod:`~nmt.alignment.subwords`: which word each SentencePiece piece belongs to (:class:`WordMap`);
* :mod:`~nmt.alignment.links`: attention [L,H,T,S] reduced to [T,S], merged to words, one hard link per word;
* :mod:`~nmt.alignment.pharaoh`: Pharaoh ``i-j`` links written and read (gold: sure and possible), AER;
* :mod:`~nmt.alignment.symmetrisation`: two directions' links combined (intersection ... grow-diag-final-and);
* :mod:`~nmt.alignment.soft`: two directions' attention combined (mean, geometric mean), then thresholded;
* :mod:`~nmt.alignment.writers`: hypotheses to :class:`Aligned` sentences, JSON Lines, .npz, heatmap files;
* :mod:`~nmt.alignment.heatmap`: the matplotlib heatmaps (matplotlib imported when drawing);
* :mod:`~nmt.alignment.graph`: the same word merge and hard links inside a TensorFlow graph, for the
  SavedModel export (imported on its own: it needs TensorFlow), tested equal to the NumPy form.

The names below are the package's public interface: ``from nmt import alignment as al; al.parse_pharaoh(...)``.
"""

from nmt.alignment.heatmap import plot_grid, plot_matrix
from nmt.alignment.links import check_layer_head, hard_links, reduce, to_words
from nmt.alignment.pharaoh import (
    AERResult,
    GoldAlignment,
    alignment_error_rate,
    format_pharaoh,
    parse_pharaoh,
    read_links,
)
from nmt.alignment.soft import soft_symmetrise
from nmt.alignment.subwords import (
    SPECIAL,
    WORD_START,
    WordMap,
    given_words,
    marked_words,
    piece_tokens,
    token_ends,
    word_index,
    words,
)
from nmt.alignment.symmetrisation import symmetrise, transpose
from nmt.alignment.writers import Aligned, reduce_all, soft_line, write_jsonl, write_npz, write_plots

__all__ = [
    "AERResult", "Aligned", "GoldAlignment", "SPECIAL", "WORD_START", "WordMap", "alignment_error_rate",
    "check_layer_head", "format_pharaoh", "given_words", "hard_links", "marked_words", "parse_pharaoh",
    "piece_tokens", "plot_grid", "plot_matrix", "read_links", "reduce", "reduce_all", "soft_line", "soft_symmetrise",
    "symmetrise", "to_words", "token_ends", "transpose", "word_index", "words", "write_jsonl", "write_npz",
    "write_plots",
]
