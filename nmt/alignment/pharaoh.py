"""Pharaoh links (``i-j``, 0-based source-target word numbers): writing them, reading them (gold files
with sure ``i-j`` and possible ``i?j`` / ``ipj`` links), and scoring them against gold (AER)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nmt.corpora.parallel import read_lines
from nmt.errors import UserError


def format_pharaoh(links: Iterable[tuple[int, int]]) -> str:
    """``i-j`` links (source i, target j), space-separated, sorted."""
    return " ".join(f"{i}-{j}" for i, j in sorted(set(links)))


@dataclass(frozen=True)
class GoldAlignment:
    sure: frozenset
    possible: frozenset  # includes every sure link


def parse_pharaoh(line: str, where: str = "alignment", base: int = 0,
                  lengths: tuple[int | None, int | None] | None = None) -> GoldAlignment:
    """Parse ``i-j`` (sure) and ``i?j`` or ``ipj`` (possible) links; possible includes sure.

    ``base``: the number of the first word in the file, 0 (as nmt align, fast_align and eflomal write)
    or 1 (as the original shared-task files); links are returned 0-based either way. ``lengths``:
    (source words, target words) of the sentence pair, either None when unknown; a link beyond them is
    a :class:`UserError` naming ``where``, as is a 0 in a 1-based line."""
    if base not in (0, 1):
        raise ValueError(f"base must be 0 or 1, got {base!r}")
    n_src, n_tgt = lengths or (None, None)
    sure, possible = set(), set()
    for token in line.split():
        for sep, is_sure in (("-", True), ("?", False), ("p", False)):  # noqa: B007 (is_sure is read after the break)
            left, found, right = token.partition(sep)
            if found and _is_number(left) and _is_number(right):
                link = (int(left) - base, int(right) - base)
                break
        else:
            raise UserError(f"{where}: cannot read link {token!r}; expected i-j (sure) or i?j / ipj (possible) "
                            f"with {base}-based word numbers")
        if min(link) < 0:
            raise UserError(f"{where}: link {token!r} numbers a word 0, but the file is read as 1-based "
                            "(--gold-base 1); give --gold-base 0 for 0-based links")
        if (n_src is not None and link[0] >= n_src) or (n_tgt is not None and link[1] >= n_tgt):
            words = (f"{n_src if n_src is not None else '?'} source and "
                     f"{n_tgt if n_tgt is not None else '?'} target words")
            hint = "; are its links 1-based? (--gold-base 1 reads 1-based gold links)" if base == 0 and (
                link[0] == n_src or link[1] == n_tgt) else ""
            raise UserError(f"{where}: link {token!r} lies outside the sentence pair ({words}, "
                            f"numbered from {base}){hint}")
        possible.add(link)
        if is_sure:
            sure.add(link)
    return GoldAlignment(frozenset(sure), frozenset(possible))


def read_links(path, what: str, base: int = 0, sources=None, targets=None) -> list[GoldAlignment]:
    """One :class:`GoldAlignment` per line of a Pharaoh file (``what`` names its kind in errors: "gold",
    "link"); with ``sources``/``targets`` (sentences) the file must have one line per sentence and every
    link must index their words."""
    lines = read_lines(path)
    count = len(sources if sources is not None else targets if targets is not None else lines)
    if len(lines) != count:
        raise UserError(f"{path} has {len(lines)} lines but there are {count} sentences; "
                        f"give one {what} line per sentence")
    out = []
    for n, line in enumerate(lines):
        lengths = (len(sources[n].split()) if sources is not None else None,
                   len(targets[n].split()) if targets is not None else None)
        out.append(parse_pharaoh(line, f"{path} line {n + 1}", base, lengths))
    return out


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()  # "²".isdigit() is True, but int("²") fails


@dataclass(frozen=True)
class AERResult:
    aer: float
    precision: float
    recall: float
    links: int
    sure: int
    possible: int
    sentences: int

    def to_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}

    def summary(self) -> str:
        return (f"AER {self.aer:.4f}  precision {self.precision:.4f}  recall {self.recall:.4f}  "
                f"({self.links} links, {self.sure} sure and {self.possible} possible gold links, "
                f"{self.sentences} sentences)")


def alignment_error_rate(hypotheses: Sequence[Iterable[tuple[int, int]]], gold: Sequence[GoldAlignment]) -> AERResult:
    """Och & Ney (2003) over a corpus: AER = 1 - (|A∩S| + |A∩P|) / (|A| + |S|), precision |A∩P|/|A|,
    recall |A∩S|/|S|."""
    if len(hypotheses) != len(gold):
        raise UserError(f"{len(hypotheses)} sentences to score but {len(gold)} gold alignments; "
                        "give one gold line per sentence")
    a = s = p = a_s = a_p = 0
    for hyp, g in zip(hypotheses, gold):
        hyp = set(hyp)
        a, s, p = a + len(hyp), s + len(g.sure), p + len(g.possible)
        a_s, a_p = a_s + len(hyp & g.sure), a_p + len(hyp & g.possible)
    aer = 1.0 - (a_s + a_p) / (a + s) if a + s else 0.0
    return AERResult(aer, a_p / a if a else 0.0, a_s / s if s else 0.0, a, s, p, len(gold))
