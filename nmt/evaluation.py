"""Translation metrics from sacreBLEU (BLEU and chrF, with their signatures) and BLEU by length."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

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
          force: bool = False) -> Scores:
    """Corpus BLEU and chrF of ``hypotheses`` against one reference per sentence.

    ``tokenize="none"`` scores text that is tokenized on purpose (the embedded corpus) as it is; the
    signature says ``tok:none``. ``force`` (implied by ``"none"``) silences sacreBLEU's warning that the
    text looks tokenized, for scores that are only a training signal."""
    from sacrebleu.metrics import BLEU, CHRF

    if len(hypotheses) != len(references):
        raise UserError(f"{len(hypotheses)} hypotheses but {len(references)} references; give one reference line per hypothesis")
    if not references:
        raise UserError("nothing to evaluate: the reference file is empty")
    bleu = BLEU(lowercase=lowercase, tokenize=tokenize, force=force or tokenize == "none")
    chrf = CHRF(lowercase=lowercase)
    b = bleu.corpus_score(list(hypotheses), [list(references)])
    c = chrf.corpus_score(list(hypotheses), [list(references)])
    return Scores(round(b.score, 2), round(c.score, 2), str(bleu.get_signature()), str(chrf.get_signature()), len(references))


def bleu_by_length(sources: Sequence[str], hypotheses: Sequence[str], references: Sequence[str],
                   edges: Sequence[int] = (10, 20, 30, 40, 50)) -> list[dict]:
    """Corpus BLEU per source-length bucket (words), as in Bahdanau et al. 2015, Fig. 2."""
    from sacrebleu.metrics import BLEU

    buckets: list[dict] = []
    bounds = [0, *edges, 10**9]
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        idx = [i for i, s in enumerate(sources) if lo < len(s.split()) <= hi]
        if not idx:
            continue
        b = BLEU().corpus_score([hypotheses[i] for i in idx], [[references[i] for i in idx]])
        label = f"{lo + 1}-{hi}" if hi < 10**9 else f">{lo}"
        buckets.append({"bucket": label, "sentences": len(idx), "bleu": round(b.score, 2)})
    return buckets
