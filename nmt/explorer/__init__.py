"""The attention explorer: one self-contained HTML file to click through what a model attended to.

:func:`collect` turns hypotheses (:class:`nmt.translator.Hypothesis`, from ``Translator.translate`` or
``Translator.align``) into plain data: for every layer/head view (each layer and head, and their means
where a model has several) the subword and word matrices, the hard links and, with gold links, each
sentence's precision, recall and AER. All of it comes from :mod:`nmt.alignment` (``reduce_all``,
``reduce``, ``to_words``, ``hard_links``, ``alignment_error_rate``), so the page shows what ``nmt align``
computes. :func:`write` inlines that data with ``page.html``, ``page.js`` and ``page.css`` into one file
that needs no network.

**Storage.** Every matrix value is stored as ``round(weight x 10000)`` in a uint16 (the weight to
exactly the 4 decimals the page prints, so a shown number equals the exported ``--npz`` value rounded
to 4 decimals), one view of one sentence-hypothesis at a time, as a low-byte and a high-byte plane,
zlib-compressed and base64-encoded;
the page inflates a view only when it is shown (the browser's own ``DecompressionStream``).
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Sequence
from importlib import resources

import numpy as np

from nmt import alignment as al
from nmt.io import atomic_open

SCALE = 10000  # stored weight = round(weight * SCALE): 4 decimals, at most 10000 < 2**16
FORMAT = 1  # version of the data layout the page reads


def views(layers: int, heads: int) -> list[tuple]:
    """The (layer, head) views stored: each layer and head by number, plus 'mean' where there are several."""
    ls = list(range(layers)) + (["mean"] if layers > 1 else [])
    hs = list(range(heads)) + (["mean"] if heads > 1 else [])
    return [(layer, head) for layer in ls for head in hs]


def default_view(layers: int, heads: int) -> int:
    """Index in :func:`views` of the view ``nmt align`` uses by default (mean over layers and heads)."""
    return len(views(layers, heads)) - 1


def quantise(matrix: np.ndarray) -> np.ndarray:
    """Weights in [0, 1] -> uint16 ``round(w * 10000)``, rounded from the float32 value ``--npz`` stores."""
    x = np.asarray(matrix, dtype=np.float32).astype(np.float64)
    return np.rint(np.clip(x, 0.0, 1.0) * SCALE).astype("<u2")


def pack(arrays: Sequence[np.ndarray]) -> str:
    """Matrices -> one base64 string: their uint16 values in order, row-major, as two byte planes (every
    low byte, then every high byte: the high bytes of small weights are 0 and compress well), zlib-compressed."""
    flat = np.concatenate([quantise(a).ravel() for a in arrays]) if arrays else np.zeros(0, "<u2")
    planes = flat.view(np.uint8).reshape(-1, 2).T  # [2,N]: low bytes, high bytes
    return base64.b64encode(zlib.compress(planes.tobytes(), 9)).decode("ascii")


def unpack(text: str) -> np.ndarray:
    """Inverse of :func:`pack` (flat uint16 values); the page does the same in JavaScript."""
    planes = np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype=np.uint8).reshape(2, -1)
    return planes[0].astype(np.uint16) | (planes[1].astype(np.uint16) << 8)


def describe(translator, config, name: str) -> dict:
    """What the page needs to know about a model: its name, family, mechanism and attention shape."""
    m = translator.model
    family, attention = config.model.family, config.model.attention
    informative = not (family == "rnn" and attention == "none")  # "none" returns uniform weights
    return {"name": name, "family": family, "attention": attention if family == "rnn" else "multi-head (cross)",
            "layers": int(m.attention_layers), "heads": int(m.attention_heads), "informative": informative,
            "views": [[str(layer), str(head)] for layer, head in views(m.attention_layers, m.attention_heads)]}


def hypothesis_record(hyp, model: dict, gold: al.GoldAlignment | None) -> dict:
    """One hypothesis: its text, score, pieces and words, and (for a model with attention) every view's
    matrices (packed), hard links and, with ``gold``, [AER, precision, recall]."""
    src = hyp.source_words or al.marked_words(hyp.source_tokens)
    tgt = hyp.target_words or al.marked_words(hyp.tokens)
    record = {"text": hyp.text, "score": round(float(hyp.score), 4), "srcPieces": list(hyp.source_tokens),
              "tgtPieces": list(hyp.tokens), "srcWords": list(src.words), "tgtWords": list(tgt.words),
              "srcOf": list(src.of_piece), "tgtOf": list(tgt.of_piece), "matrices": None, "links": None, "aer": None}
    if not model["informative"] or hyp.attention is None:
        return record
    subs, words, links, scores = [], [], [], []
    for layer, head in views(model["layers"], model["heads"]):
        a = al.reduce_all([hyp], layer, head)[0]
        subs.append(a.subword)
        words.append(a.word)
        links.append([list(link) for link in a.links])
        if gold is not None:
            r = al.alignment_error_rate([a.links], [gold])
            scores.append([round(r.aer, 4), round(r.precision, 4), round(r.recall, 4)])
    record["matrices"] = [pack([sub, word]) for sub, word in zip(subs, words)]  # per view: subword, then word
    record["links"] = links
    record["aer"] = scores if gold is not None else None
    return record


def disagreement(a: dict, b: dict) -> float | None:
    """1 - Jaccard overlap of two models' default-view hard links of one sentence: by word numbers when
    both aligned the same target words, else by (source word, target word text). None without links."""
    if a["links"] is None or b["links"] is None:
        return None
    same = a["tgtWords"] == b["tgtWords"]

    def key(rec):
        return {(i, j) if same else (i, rec["tgtWords"][j]) for i, j in rec["links"][-1]}

    x, y = key(a), key(b)
    return round(1.0 - len(x & y) / len(x | y), 4) if x | y else 0.0


def collect(sources: Sequence[str], runs: Sequence[tuple[dict, Sequence]], gold: Sequence | None = None,
            mode: str = "translate", title: str = "nmt explore") -> dict:
    """The page's data. ``runs``: per model, ``(describe(...), hypotheses)`` with one entry per source,
    a Hypothesis or a list of n-best Hypotheses. ``gold``: one :class:`nmt.alignment.GoldAlignment` per
    sentence (forced alignment only)."""
    sentences = []
    for n, source in enumerate(sources):
        g = gold[n] if gold is not None else None
        per_model = []
        for model, hyps in runs:
            nbest = hyps[n] if isinstance(hyps[n], list) else [hyps[n]]
            per_model.append([hypothesis_record(h, model, g) for h in nbest])
        sentence = {"source": source, "runs": per_model,
                    "gold": {"sure": sorted(map(list, g.sure)),
                             "possible": sorted(map(list, g.possible - g.sure))} if g else None}
        if len(per_model) == 2:
            sentence["disagreement"] = disagreement(per_model[0][0], per_model[1][0])
        sentences.append(sentence)
    return {"format": FORMAT, "title": title, "mode": mode, "scale": SCALE, "gold": gold is not None,
            "models": [model for model, _ in runs], "sentences": sentences}


def _asset(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def render(data: dict) -> str:
    """The whole page as one string: template with the style, the data and the script inlined."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    payload = payload.replace("<", "\\u003c")  # JSON's own escape: no "</script>" or "<!--" inside the <script>
    page = _asset("page.html")
    for marker, text in (("/*STYLE*/", _asset("page.css")), ("/*SCRIPT*/", _asset("page.js")),
                         ("/*TITLE*/", _html_escape(data["title"]))):
        page = page.replace(marker, text, 1)
    return page.replace("/*DATA*/", payload, 1)


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write(path, data: dict) -> None:
    """Write the page to ``path`` through a temporary file (no half-written page on an error)."""
    with atomic_open(path) as f:
        f.write(render(data))
