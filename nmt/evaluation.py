"""Translation metrics from sacreBLEU (BLEU and chrF, with their signatures) and BLEU by length."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nmt.errors import UserError


@dataclass(frozen=True)
class Scores:
    bleu: float
    chrf: float
    bleu_signature: str
    chrf_signature: str
    sentences: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def summary(self) -> str:
        return f"BLEU {self.bleu:.2f} ({self.bleu_signature})\nchrF {self.chrf:.2f} ({self.chrf_signature})"


def score(hypotheses: Sequence[str], references: Sequence[str], lowercase: bool = False, tokenize: str = "13a",
          force: bool = False, moses: str | None = None) -> Scores:
    """Corpus BLEU and chrF of ``hypotheses`` against one reference per sentence.

    ``tokenize="none"`` scores text that is tokenized on purpose (the embedded corpus) as it is; the
    signature says ``tok:none``. ``force`` (implied by ``"none"``) silences sacreBLEU's warning that the
    text looks tokenized, for scores that are only a training signal.

    ``moses=LANG`` scores in the convention of published Multi30k (and older WMT) results, which
    sacreBLEU's detokenized default does not reproduce: both sides lowercased and split by the Moses
    tokenizer with LANG's rules (:func:`moses_tokenized`), then BLEU on those tokens without smoothing, as
    ``multi-bleu.perl -lc`` computes it. The signature ends ``|moses:LANG``; ``lowercase`` and ``tokenize``
    do not apply."""
    from sacrebleu.metrics import BLEU, CHRF

    if len(hypotheses) != len(references):
        raise UserError(f"{len(hypotheses)} hypotheses but {len(references)} references; "
                        "give one reference line per hypothesis")
    if not references:
        raise UserError("nothing to evaluate: the reference file is empty")
    suffix = ""
    if moses:
        hypotheses, references = moses_tokenized(hypotheses, moses), moses_tokenized(references, moses)
        bleu = BLEU(lowercase=True, tokenize="none", smooth_method="none", force=True)
        chrf, suffix = CHRF(lowercase=True), f"|moses:{moses}"
    else:
        bleu = BLEU(lowercase=lowercase, tokenize=tokenize, force=force or tokenize == "none")
        chrf = CHRF(lowercase=lowercase)
    b = bleu.corpus_score(list(hypotheses), [list(references)])
    c = chrf.corpus_score(list(hypotheses), [list(references)])
    return Scores(round(b.score, 2), round(c.score, 2), str(bleu.get_signature()) + suffix,
                  str(chrf.get_signature()) + suffix, len(references))


def moses_tokenized(texts: Sequence[str], lang: str) -> list[str]:
    """``texts`` lowercased and split by the Moses tokenizer (sacremoses) with the rules of language ``lang``
    (its non-breaking prefixes; other codes get the English ones), without HTML escaping: the form
    published Multi30k results are scored in."""
    try:
        from sacremoses import MosesTokenizer
    except ImportError:
        raise UserError("the Moses convention needs the sacremoses package: pip install sacremoses") from None
    if not lang.isalpha() or len(lang) > 3:
        raise UserError(f"--moses takes a language code such as en, de or fr, not {lang!r}")
    tokenizer = MosesTokenizer(lang.lower())
    return [tokenizer.tokenize(t, escape=False, return_str=True).lower() for t in texts]


def length_buckets(lengths: Sequence[int], edges: Sequence[int] = (10, 20, 30, 40, 50),
                   min_sentences: int = 30) -> list[tuple[int, int, list[int]]]:
    """Sentence indices by length, in buckets bounded by ``edges`` (lo < length <= hi); a bucket with
    fewer than ``min_sentences`` sentences is merged into its neighbour (the shorter one, or the longer
    one for the first bucket), so that no point rests on a handful of sentences. Depends on the lengths
    only, so every system scored on one test set gets the same buckets. Returns (lo, hi, indices)."""
    bounds = [0, *edges, 10**9]
    buckets = [[lo, hi, [i for i, n in enumerate(lengths) if lo < n <= hi]] for lo, hi in zip(bounds[:-1], bounds[1:])]
    buckets = [b for b in buckets if b[2]]
    i = len(buckets) - 1
    while len(buckets) > 1 and i >= 0:
        if len(buckets[i][2]) >= min_sentences:
            i -= 1
            continue
        j = i - 1 if i > 0 else i + 1  # merge with the shorter neighbour (the first bucket: the longer)
        lo, hi = min(buckets[i][0], buckets[j][0]), max(buckets[i][1], buckets[j][1])
        merged = [lo, hi, sorted(buckets[i][2] + buckets[j][2])]
        k = min(i, j)
        buckets[k:k + 2] = [merged]
        i = min(k, len(buckets) - 1)
    return [(lo, hi, idx) for lo, hi, idx in buckets]


def bleu_by_length(sources: Sequence[str], hypotheses: Sequence[str], references: Sequence[str],
                   edges: Sequence[int] = (10, 20, 30, 40, 50), min_sentences: int = 30, resamples: int = 1000,
                   seed: int = 0) -> list[dict]:
    """Corpus BLEU per source-length bucket (words), as in Bahdanau et al. 2015, Fig. 2, with each
    bucket's sentence count and a 95% bootstrap confidence interval (``resamples`` resamplings of the
    bucket's sentences, seeded; sacreBLEU's sentence statistics, as its paired bootstrap uses).
    Buckets under ``min_sentences`` are merged (:func:`length_buckets`)."""
    import numpy as np
    from sacrebleu.metrics import BLEU

    metric = BLEU()
    rng = np.random.default_rng(seed)
    out = []
    for lo, hi, idx in length_buckets([len(s.split()) for s in sources], edges, min_sentences):
        hyps, refs = [hypotheses[i] for i in idx], [references[i] for i in idx]
        stats = np.asarray(metric._extract_corpus_statistics(hyps, [refs]), dtype=np.int64)  # [n, 2 + 2 * 4]
        draws = rng.integers(0, len(idx), size=(resamples, len(idx)))
        scores = [metric._compute_score_from_stats(stats[d].sum(0).tolist()).score for d in draws]
        low, high = np.percentile(scores, [2.5, 97.5])
        label = f"{lo + 1}-{hi}" if hi < 10**9 else f">{lo}"
        out.append({"bucket": label, "sentences": len(idx), "bleu": round(metric.corpus_score(hyps, [refs]).score, 2),
                    "ci95": [round(float(low), 2), round(float(high), 2)]})
    return out
