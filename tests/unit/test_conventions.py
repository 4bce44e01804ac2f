"""Text in the Hansards gold's token conventions: Moses tokens, French contractions undone."""

import pytest

from nmt.corpora.conventions import french_tokens, to_gold_conventions
from nmt.errors import UserError


def test_french_contractions_are_undone_as_the_gold_writes_them():
    text = "L'homme qu'il a vu aujourd'hui, c'est l’enfant du voisin aux yeux bleus et des chats au-dessus."
    assert to_gold_conventions([text], "fr") == [
        "Le homme que il a vu aujourd' hui , ce est le enfant de le voisin à les yeux bleus et de les chats "
        "au - dessus ."]
    assert to_gold_conventions(["J'ai DU pain. Jusqu'à là-bas, n'est-ce pas ?"], "fr", lowercase=True) == [
        "je ai de le pain . jusque à là - bas , ne est - ce pas ?"]


def test_english_clitics_and_hyphens_are_split():
    assert to_gold_conventions(["The member's dog doesn't jump, well-known."], "en") == [
        "The member 's dog doesn 't jump , well - known ."]


def test_rules_keep_other_tokens_and_count_words():
    tokens = ["Du", "DES", "aux", "le", "l'", "Qu'", "lourd", "dur"]
    assert french_tokens(tokens) == ["De", "le", "DE", "LES", "à", "les", "le", "le", "Que", "lourd", "dur"]
    assert french_tokens([]) == []


def test_only_english_and_french():
    with pytest.raises(UserError, match="English and French"):
        to_gold_conventions(["Hallo Welt"], "de")


def test_the_gold_text_is_almost_a_fixed_point(shared_data):
    """The Hansards test sentences are already in the conventions: converting them again changes
    only the few tokens Moses reads differently in pre-tokenized text ("' s", "St ."), under 3%."""
    folder = shared_data / "align" / "enfr_hansards"
    for lang in ("en", "fr"):
        lines = (folder / f"test.{lang}").read_text(encoding="utf-8").splitlines()
        converted = to_gold_conventions(lines, lang)
        changed = sum(" ".join(a.split()) != b for a, b in zip(lines, converted))
        assert changed <= 0.03 * len(lines), (lang, changed)
