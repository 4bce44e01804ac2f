"""Tests for nmt.corpora.synthetic (the embedded Synthdeutsch corpus) and scripts/make_synthetic.py."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nmt.corpora import synthetic as S, synthetic_lexicon as L
from nmt.corpora.synthetic import clause as cl, noun_phrase as np_, pronoun

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "data" / "synthetic"
LINK = re.compile(r"^(\d+)([-?])(\d+)$")


def links(pair):
    """[(i, j, sure)] of a pair, checking the Pharaoh syntax."""
    out = []
    for item in pair.alignment.split():
        m = LINK.match(item)
        assert m, f"bad link {item!r} in {pair}"
        out.append((int(m[1]), int(m[3]), m[2] == "-"))
    return out


def crossing(pair) -> bool:
    ls = [(i, j) for i, j, _ in links(pair)]
    return any(i1 < i2 and j1 > j2 for i1, j1 in ls for i2, j2 in ls)


@pytest.fixture(scope="module")
def default_splits():
    return S.splits()


@pytest.fixture(scope="module")
def sample():
    return S.generate(3000, seed=11)


# ---------------------------------------------------------------- determinism


def test_same_seed_same_output_different_seed_different_output():
    a = S.generate(300, seed=5)
    assert a == S.generate(300, seed=5)
    b = S.generate(300, seed=6)
    assert a != b and sum(x != y for x, y in zip(a, b)) > 250


def test_output_does_not_depend_on_the_process_hash_seed():
    code = "from nmt.corpora.synthetic import generate; print(repr(generate(50, 3)))"
    outs = {subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": h, "PYTHONPATH": str(ROOT)}).stdout
            for h in ("1", "2")}
    assert len(outs) == 1 and repr(S.generate(50, 3)) == outs.pop().strip()


def test_translation_is_a_function_of_the_source():
    """With a tiny lexicon many sentences come out several times, from different trees: the target and
    the alignment must be the same each time (the English side has no structural ambiguity)."""
    mp = pytest.MonkeyPatch()
    try:
        for name, ens in {"PERSONS": ["man"], "ANIMALS": ["dog"], "THINGS": ["ball"],
                          "INTRANS": ["sleep", "fall asleep"], "TRANS": ["see", "call up"], "DITRANS": ["give"],
                          "COMP": ["say"], "ADJS": ["big", "big"], "ADVS": ["today"], "PREPS": ["with"],
                          "CONJS": ["because"], "COORDS": ["and"], "PRONOUNS": ["he", "it"]}.items():
            small = [S._find(getattr(L, name), e) for e in ens]
            for module in (L, S):  # the lexicon's tables, and the renderer's names for them
                if hasattr(module, name):
                    mp.setattr(module, name, small)
        mp.setattr(S, "NOUNS", L.PERSONS + L.ANIMALS + L.THINGS)
        mp.setattr(S, "ANIMATE", L.PERSONS + L.ANIMALS)
        mp.setattr(S, "TENSES", ("pres", "perf", "will", "will", "will"))
        for name, value in (("SG_DETS", ["the"]), ("SG_W", (1,)), ("PL_DETS", ["the"]), ("PL_W", (1,))):
            mp.setattr(S, name, value)
        seen, repeats, longer = {}, 0, 0
        for pair in S.generate(8000, seed=2):
            first = seen.setdefault(pair.src, pair)
            if first is not pair:
                assert first == pair
                repeats += 1
                longer += len(pair.src.split()) >= 8
    finally:
        mp.undo()
    assert repeats > 800 and longer > 50


# ---------------------------------------------------------------- alignments


def test_alignment_indices_in_range_sorted_and_every_token_linked(sample):
    for pair in sample:
        src, tgt, ls = pair.src.split(), pair.tgt.split(), links(pair)
        assert all(0 <= i < len(src) and 0 <= j < len(tgt) for i, j, _ in ls), pair
        assert [(i, j) for i, j, _ in ls] == sorted({(i, j) for i, j, _ in ls}), pair
        assert {j for _, j, _ in ls} == set(range(len(tgt))), f"unaligned target word in {pair}"
        assert {i for i, _, _ in ls} == set(range(len(src))), f"unaligned source word in {pair}"


def test_most_links_are_sure_and_punctuation_is_aligned(sample):
    ls = [x for p in sample for x in links(p)]
    assert 0.9 < sum(s for *_, s in ls) / len(ls) < 1.0  # possible links exist, but are few
    for pair in sample:
        src, tgt = pair.src.split(), pair.tgt.split()
        assert src[-1] == tgt[-1] == "." and (len(src) - 1, len(tgt) - 1, True) in links(pair)
        for i, j, sure in links(pair):
            if sure and "," in (src[i], tgt[j]):
                assert src[i] == tgt[j] == ",", pair


def test_reordering_happens(default_splits):
    train = default_splits["train"]
    share = sum(crossing(p) for p in train[:3000]) / 3000
    assert share > 0.4  # verb final, V2 inversion, participles, separable particles


def test_words_are_lowercase_ascii(sample):
    for pair in sample:
        assert re.fullmatch(r"[a-z,. ]+", pair.src) and re.fullmatch(r"[a-z,. ]+", pair.tgt), pair


# ---------------------------------------------------------------- splits, lengths, files


def test_default_splits_sizes_disjoint_and_unique(default_splits):
    sizes = dict(zip(("train", "valid", "test"), S.DEFAULT_SIZES))
    assert {k: len(v) for k, v in default_splits.items()} == sizes
    srcs = [p.src for v in default_splits.values() for p in v]
    assert len(set(srcs)) == len(srcs)  # no source twice, within or across splits


def test_held_out_splits_do_not_depend_on_train_size():
    small, big = S.splits(seed=9, sizes=(10, 20, 30)), S.splits(seed=9, sizes=(50, 20, 30))
    assert small["test"] == big["test"] and small["valid"] == big["valid"] and big["train"][:10] == small["train"]


def test_splits_without_alignments_are_the_same_pairs(default_splits):
    # align=False (what training uses) skips the gold links and must not change a single sentence.
    bare = S.splits(align=False)
    for name, pairs in default_splits.items():
        assert [(p.src, p.tgt) for p in bare[name]] == [(p.src, p.tgt) for p in pairs]
        assert {p.alignment for p in bare[name]} == {""}


def test_length_distribution(default_splits):
    n = [len(p.src.split()) for p in default_splits["train"]]
    assert min(n) <= 4 and max(n) >= 50
    assert 0.04 <= sum(x > 30 for x in n) / len(n) <= 0.12
    assert sum(x > 50 for x in n) >= 20
    assert sum(x <= 10 for x in n) / len(n) > 0.3  # many short sentences


def test_shipped_files_equal_the_default_splits(default_splits):
    for name, pairs in default_splits.items():
        for ext, field in (("en", "src"), ("de", "tgt"), ("align", "alignment")):
            data = (SHIPPED / f"{name}.{ext}").read_bytes()
            want = "".join(getattr(p, field) + "\n" for p in pairs).encode("utf-8")
            assert data == want, f"{SHIPPED / name}.{ext} is stale: run python scripts/make_synthetic.py"
    assert sum(f.stat().st_size for f in SHIPPED.iterdir()) < 8e6


def test_write_splits_and_script(tmp_path):
    data = S.write_splits(tmp_path / "w", seed=4, sizes=(30, 5, 7))
    lines = (tmp_path / "w" / "valid.de").read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and lines[:-1] == [p.tgt for p in data["valid"]]
    spec = importlib.util.spec_from_file_location("make_synthetic", ROOT / "scripts" / "make_synthetic.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--out", str(tmp_path / "s"), "--seed", "4", "--train", "30", "--valid", "5", "--test", "7"]) == 0
    for name in ("train", "valid", "test"):
        for ext in ("en", "de", "align"):
            assert (tmp_path / "s" / f"{name}.{ext}").read_bytes() == (tmp_path / "w" / f"{name}.{ext}").read_bytes()
    assert "i?j" in (tmp_path / "s" / "README.md").read_text(encoding="utf-8")


def test_lexicon_size():
    size = L.LEXICON_SIZE
    assert size["nouns"] >= 100 and size["verbs"] >= 60 and size["adjectives"] >= 50
    lex = L.lexicon()
    assert len(lex["en"]) > 300 and len(lex["de"]) > 300
    assert {"man", "call", "up", "big", "because"} <= lex["en"] and {"mann", "anrufen", "gross", "weil"} <= lex["de"]
    separable = [v for v in L.VERBS if v.prt]
    assert len(separable) >= 15 and {v.aux for v in L.VERBS} == {"h", "s"}


# ---------------------------------------------------------------- grammar rules, exact


def _examples():
    man, woman, dog = (lambda: np_("man")), (lambda: np_("woman")), (lambda: np_("dog"))
    return [
        # verb final in a that-clause, comma before "dass"
        (cl(woman(), "say", comp=cl(man(), "see", dog(), kind="sub")),
         "the woman says that the man sees the dog .", "die frau sagt , dass der mann den hund sieht ."),
        # separable verb: particle at the end of the main clause, whatever the English particle position
        (cl(woman(), "call up", np_("child"), late=True), "the woman calls the child up .",
         "die frau ruft das kind an ."),
        (cl(woman(), "call up", np_("child")), "the woman calls up the child .", "die frau ruft das kind an ."),
        # ... and joined to the finite verb at the end of a subordinate clause
        (cl(man(), "sleep", subs=[("because", cl(pronoun("she"), "call up", np_("child"), kind="sub", late=True))]),
         "the man sleeps , because she calls the child up .", "der mann schlaeft , weil sie das kind anruft ."),
        # perfect: participle last (haben / sein, separable participle)
        (cl(man(), "see", dog(), tense="perf"), "the man has seen the dog .", "der mann hat den hund gesehen ."),
        (cl(man(), "set off", tense="perf"), "the man has set off .", "der mann ist losgefahren ."),
        # verb final cluster in a subordinate clause: participle + auxiliary, infinitive + modal
        (cl(pronoun("i"), "hope", comp=cl(pronoun("we"), "arrive", kind="sub", tense="perf")),
         "i hope that we have arrived .", "ich hoffe , dass wir angekommen sind ."),
        (cl(pronoun("you"), "think", comp=cl(np_("child", "my"), "eat", np_("apple", "a"), kind="sub", tense="must")),
         "you think that my child must eat an apple .", "du denkst , dass mein kind einen apfel essen muss ."),
        # V2: fronted adverb / PP / adverbial clause put the finite verb before the subject
        (cl(pronoun("i"), "meet", np_("boy", "a"), tense="perf", neg=True, adv="yesterday", front="adv"),
         "yesterday i have not met a boy .", "gestern habe ich einen jungen nicht getroffen ."),
        (cl(pronoun("she"), "sleep", pps=[("in", np_("garden"))], front="pp"),
         "in the garden she sleeps .", "in dem garten schlaeft sie ."),
        (cl(man(), "set off", subs=[("because", cl(dog(), "bark", kind="sub", tense="perf"))], front="sub",
            tense="perf"),
         "because the dog has barked , the man has set off .",
         "weil der hund gebellt hat , ist der mann losgefahren ."),
        # declension: mixed (ein-word), weak (der-word), strong (no article), dative plural -n
        (cl(np_("dog", "a", adjs=["big"]), "see", np_("cat", adjs=["small"])),
         "a big dog sees the small cat .", "ein grosser hund sieht die kleine katze ."),
        (cl(pronoun("they"), "arrive", pps=[("with", np_("horse", "two", True, ["old"]))], tense="will"),
         "they will arrive with two old horses .", "sie werden mit zwei alten pferden ankommen ."),
        (cl(np_("child", "no", True), "play", pps=[("for", np_("teacher", "our", adjs=["tired"]))]),
         "no children play for our tired teacher .", "keine kinder spielen fuer unseren mueden lehrer ."),
        # dative before accusative; pronouns accusative first
        (cl(man(), "give", np_("ball", "a", adjs=["red"]), np_("child"), to=True, tense="will"),
         "the man will give a red ball to the child .", "der mann wird dem kind einen roten ball geben ."),
        (cl(man(), "give", np_("ball", "a", adjs=["red"]), np_("child")),
         "the man gives the child a red ball .", "der mann gibt dem kind einen roten ball ."),
        (cl(pronoun("he"), "give", pronoun("it"), pronoun("she"), to=True), "he gives it to her .", "er gibt es ihr ."),
        # relative clauses: subject and object relative, verb final, comma kept in German only
        (cl(np_("man", rel=cl(None, "see", dog(), kind="rel")), "sleep"),
         "the man , who sees the dog , sleeps .", "der mann , der den hund sieht , schlaeft ."),
        (cl(woman(), "see", np_("dog", rel=cl(man(), "see", kind="rel", role="o")), tense="perf"),
         "the woman has seen the dog , which the man sees .", "die frau hat den hund , den der mann sieht , gesehen ."),
        # coordination, agreement with a coordinated subject, negation
        (S.coordination("but", cl(pronoun("we"), "sleep"), cl(pronoun("you"), "read", np_("book", "no", adjs=["new"]))),
         "we sleep , but you read no new book .", "wir schlafen , aber du liest kein neues buch ."),
        (cl(S.coordinated(man(), woman()), "wait", tense="can", neg=True),
         "the man and the woman can not wait .", "der mann und die frau koennen nicht warten ."),
        (cl(man(), "see", dog(), neg=True), "the man does not see the dog .", "der mann sieht den hund nicht ."),
        (cl(man(), "sleep", subs=[("so that", cl(np_("child"), "play", kind="sub"))]),
         "the man sleeps , so that the child plays .", "der mann schlaeft , damit das kind spielt ."),
    ]


@pytest.mark.parametrize("k", range(len(_examples())))
def test_exact_translation(k):
    tree, src, tgt = _examples()[k]
    pair = S.render(tree)
    assert (pair.src, pair.tgt) == (src, tgt)


@pytest.mark.parametrize("src_tgt_alignment", [
    # separable verb: calls=ruft, up=an (and calls~an); crossing object/particle
    ((cl(np_("woman"), "call up", np_("child")),
      "the woman calls up the child .", "0-0 1-1 2-2 2?5 3-5 4-3 5-4 6-6")),
    # "arrive" (no English particle) aligns surely to both "kommen" and "an"
    ((cl(pronoun("she"), "arrive"), "she arrives .", "0-0 1-1 1-2 2-3")),
    # do-support and "to" are possible links; "that" is possibly the German comma
    ((cl(np_("man"), "give", np_("ball"), np_("child"), to=True, neg=True),
      "the man does not give the ball to the child .", "0-0 1-1 2?2 3-7 4-2 5-5 6-6 7?3 8-3 9-4 10-8")),
    ((cl(np_("woman"), "say", comp=cl(np_("man"), "see", np_("dog"), kind="sub")),
      "the woman says that the man sees the dog .", "0-0 1-1 2-2 3?3 3-4 4-5 5-6 6-9 7-7 8-8 9-10")),
    # closing comma of a relative clause only German keeps: possibly the English opening comma
    ((cl(np_("woman"), "see", np_("dog", rel=cl(np_("man"), "see", kind="rel", role="o")), tense="perf"),
      "the woman has seen the dog , which the man sees .",
      "0-0 1-1 2-2 3-11 4-3 5-4 6-5 6?10 7-6 8-7 9-8 10-9 11-12")),
])
def test_exact_alignment(src_tgt_alignment):
    tree, src, alignment = src_tgt_alignment
    pair = S.render(tree)
    assert pair.src == src and pair.alignment == alignment
    assert crossing(pair) or src == "she arrives ."
