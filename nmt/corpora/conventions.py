"""Bring raw text to the token conventions of the English–French Hansards gold alignments.

The gold (Mihalcea and Pedersen 2003, ``../shared/data/align/enfr_hansards``) indexes pre-tokenized
text: punctuation split off, hyphens as their own token (``là - bas``), English clitics split
(``member 's``), and French contractions undone: an elided article or pronoun is written out
(``l'`` -> ``le``, ``j'ai`` -> ``je ai``, ``qu'il`` -> ``que il``) and the fused articles split
(``du`` -> ``de le``, ``des`` -> ``de les``, ``au`` -> ``à le``, ``aux`` -> ``à les``). Written out
this way, an English word links to one French word per idea, and an aligner trained on other text
sees the same tokens as the gold.

:func:`to_gold_conventions` does this to any text: the Moses tokenizer (``sacremoses``, the
well-kept Python port of Moses' ``tokenizer.perl``: ``aggressive_dash_splits``, no HTML escaping),
with typographic apostrophes made straight first, then the French rules below. The gold itself
writes every elided article as ``le`` (``le analyse``, ``le industrie``), so ``l'`` becomes ``le``
whatever the noun's gender; ``aujourd'hui`` stays ``aujourd' hui`` as Moses and the gold have it.
"""

from __future__ import annotations

from collections.abc import Iterable

from nmt.errors import UserError

ELIDED = {"l'": "le", "j'": "je", "qu'": "que", "c'": "ce", "d'": "de", "n'": "ne", "s'": "se", "m'": "me",
          "t'": "te", "jusqu'": "jusque", "lorsqu'": "lorsque", "puisqu'": "puisque", "quoiqu'": "quoique"}
FUSED = {"du": ("de", "le"), "des": ("de", "les"), "au": ("à", "le"), "aux": ("à", "les")}
APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\u2032": "'"})


def french_tokens(tokens: Iterable[str]) -> list[str]:
    """Undo French contractions in Moses tokens, keeping a capital initial (``Du`` -> ``De le``); a
    fused article before a hyphen (``au - dessus``) is part of a compound and stays."""
    out: list[str] = []
    tokens = list(tokens)
    for n, token in enumerate(tokens):
        lower = token.lower()
        if lower in ELIDED:
            out.append(_cased(ELIDED[lower], token))
        elif lower in FUSED and tokens[n + 1:n + 2] != ["-"]:  # au-dessus, au-delà stay whole, as in the gold
            first, second = FUSED[lower]
            out += [_cased(first, token), second.upper() if _shouting(token) else second]
        else:
            out.append(token)
    return out


def _shouting(token: str) -> bool:
    return token.isupper() and sum(c.isalpha() for c in token) > 1  # DES, QU' (not L')


def _cased(word: str, like: str) -> str:
    if _shouting(like):
        return word.upper()
    return word[0].upper() + word[1:] if like[:1].isupper() else word


class GoldConventions:
    """Tokenize sentences of one language as the Hansards gold is tokenized (see the module docstring)."""

    def __init__(self, lang: str, lowercase: bool = False):
        try:
            from sacremoses import MosesTokenizer
        except ImportError:
            raise UserError("the gold conventions need the sacremoses package: pip install sacremoses") from None
        if lang not in ("en", "fr"):
            raise UserError(f"gold conventions are defined for English and French (en, fr), not {lang!r}")
        self.lang, self.lowercase = lang, lowercase
        self._moses = MosesTokenizer(lang)

    def __call__(self, sentence: str) -> str:
        tokens = self._moses.tokenize(sentence.translate(APOSTROPHES), escape=False, aggressive_dash_splits=True)
        tokens = ["-" if t == "@-@" else t for t in tokens]
        if self.lang == "fr":
            tokens = french_tokens(tokens)
        text = " ".join(tokens)
        return text.lower() if self.lowercase else text


def to_gold_conventions(sentences: Iterable[str], lang: str, lowercase: bool = False) -> list[str]:
    """Each sentence tokenized as the Hansards gold is (``lowercase``: also lowercased)."""
    convert = GoldConventions(lang, lowercase)
    return [convert(s) for s in sentences]
