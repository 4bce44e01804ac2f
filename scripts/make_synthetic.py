#!/usr/bin/env python
"""Regenerate the embedded Synthdeutsch corpus (data/synthetic/) and its README.

Writes {train,valid,test}.{en,de,align}: one pair per line, plain UTF-8 text, alignments in Pharaoh
format (sure "i-j", possible "i?j"). The output is a function of --seed and the sizes only.

    python scripts/make_synthetic.py                       # the shipped files
    python scripts/make_synthetic.py --out /tmp/syn --train 50000 --seed 7
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nmt.corpora import synthetic as S, synthetic_lexicon as L  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(ROOT / "data" / "synthetic"), help="output folder [data/synthetic]")
    p.add_argument("--seed", type=int, default=S.DEFAULT_SEED)
    p.add_argument("--train", type=int, default=S.DEFAULT_SIZES[0], help="train pairs")
    p.add_argument("--valid", type=int, default=S.DEFAULT_SIZES[1], help="validation pairs")
    p.add_argument("--test", type=int, default=S.DEFAULT_SIZES[2], help="test pairs")
    p.add_argument("--no-readme", action="store_true", help="do not (re)write README.md")
    return p.parse_args(argv)


def _examples() -> list[tuple[str, S.Pair]]:
    """Hand-built trees, one per phenomenon, rendered by the grammar (so the README never goes stale)."""
    np_, cl = S.noun_phrase, S.clause
    return [
        ("verb-final subordinate clause, `, dass`",
         cl(np_("woman"), "say", comp=cl(np_("man"), "see", np_("dog"), kind="sub"))),
        ("separable verb, particle after or before the object", cl(np_("woman"), "call up", np_("child"), late=True)),
        ("perfect: auxiliary second, participle last", cl(np_("man"), "see", np_("dog"), tense="perf")),
        ("verb second after a fronted adverb, weak noun, `nicht`",
         cl(S.pronoun("i"), "meet", np_("boy", "a"), tense="perf", neg=True, adv="yesterday", front="adv")),
        ("adjective declension (mixed / weak)", cl(np_("dog", "a", adjs=["big"]), "see", np_("cat", adjs=["small"]))),
        ("dative before accusative; `to` is a possible link",
         cl(np_("man"), "give", np_("ball", "a", adjs=["red"]), np_("child"), to=True, tense="will")),
        ("relative clause, verb final", cl(np_("man", rel=cl(None, "see", np_("dog"), kind="rel")), "sleep")),
        ("fronted adverbial clause, inversion, `sein` perfect of a separable verb",
         cl(np_("man"), "set off", subs=[("because", cl(np_("dog"), "bark", kind="sub", tense="perf"))],
            front="sub", tense="perf")),
        ("coordinated subject (plural), modal, `nicht`",
         cl(S.coordinated(np_("man"), np_("woman")), "wait", tense="can", neg=True,
            pps=[("for", np_("child", None, plural=True))])),
        ("subordinate separable verb, PP with dative plural",
         cl(np_("friend", "our"), "hope", comp=cl(S.pronoun("they"), "arrive", kind="sub",
                                                   pps=[("with", np_("horse", "two", plural=True))]))),
    ]


def _pharaoh_table(p: S.Pair) -> str:
    src, tgt = p.src.split(), p.tgt.split()
    links = []
    for link in p.alignment.split():
        sep = "-" if "-" in link else "?"
        i, j = map(int, link.split(sep))
        links.append(f"{src[i]}{'=' if sep == '-' else '~'}{tgt[j]}")
    return " ".join(links)


def _length_table(data: dict) -> list[str]:
    rows = ["| split | pairs | src words min / median / mean / max | tgt mean | > 30 words | > 50 words |",
            "|---|---|---|---|---|---|"]
    for name, pairs in data.items():
        n = [len(p.src.split()) for p in pairs]
        t = [len(p.tgt.split()) for p in pairs]
        rows.append(f"| {name} | {len(pairs)} | {min(n)} / {statistics.median(n):g} / {statistics.mean(n):.1f} / "
                    f"{max(n)} | {statistics.mean(t):.1f} | {sum(x > 30 for x in n) / len(n):.1%} | "
                    f"{sum(x > 50 for x in n) / len(n):.1%} |")
    return rows


def _histogram(pairs: list) -> list[str]:
    bins = [(1, 5), (6, 10), (11, 15), (16, 20), (21, 30), (31, 40), (41, 50), (51, 1000)]
    n = [len(p.src.split()) for p in pairs]
    rows = ["| source words | share of train |", "|---|---|"]
    for lo, hi in bins:
        label = f"{lo}-{hi}" if hi < 1000 else f"> {lo - 1}"
        rows.append(f"| {label} | {sum(lo <= x <= hi for x in n) / len(n):.1%} |")
    return rows


def readme(data: dict, args) -> str:
    train = data["train"]
    sure = sum(link.count("-") for p in train for link in p.alignment.split())
    poss = sum(link.count("?") for p in train for link in p.alignment.split())
    crossing = sum(_crosses(p.alignment) for p in train) / len(train)
    vocab = {side: len({w for p in train for w in getattr(p, side).split()}) for side in ("src", "tgt")}
    lex = L.lexicon()
    out = [
        "# Synthdeutsch: the embedded synthetic corpus",
        "",
        "English into *Synthdeutsch*, an invented German-like language, generated by the synchronous grammar "
        "in `nmt/corpora/synthetic.py`, with the gold word alignment of every pair. It is the default corpus "
        "of the training demos (small, deterministic, learnable in minutes on a CPU) and the ground truth "
        "for alignment error rate (AER) of attention.",
        "",
        "Files: `{train,valid,test}.en` (source), `.de` (target), `.align` (alignment); one pair per line, "
        "UTF-8, lowercase, tokenized on spaces (punctuation is a separate token). No source sentence occurs "
        "twice, within or across splits.",
        "",
        "## Grammar",
        "",
        "A sentence is drawn as an abstract tree (clauses, noun phrases, prepositional phrases) and rendered "
        "twice, in English and in Synthdeutsch. Every rendered word carries anchors to the tree node it "
        "expresses; words sharing an anchor are aligned. The translation is a function of the English "
        "string: no synonyms, no random choice on the target side, and the English side is kept free of "
        "attachment ambiguity (PPs attach only to verbs, only subjects coordinate, only main clauses are "
        "coordinated or front a constituent, relative clauses are set off by commas and contain no clause, "
        "a clause with a `that` complement has no trailing adjunct). Where English has two word orders "
        "(`calls the child up` / `calls up the child`, `gives the child the ball` / `gives the ball to the "
        "child`) both map to the one Synthdeutsch sentence.",
        "",
        "Phenomena: verb-second main clauses (a fronted adverb, PP or adverbial clause inverts subject and "
        "verb), verb-final subordinate and relative clauses, separable verbs (`ruft ... an` in main clauses, "
        "`anruft` / `angerufen` / `anrufen` in the verb cluster), perfect with `haben`/`sein` and the "
        "participle last, `will`/`can`/`must` with the infinitive last, `nicht` after the objects, "
        "middle-field order (pronouns, adverb, dative, accusative, `nicht`, PPs), articles, possessives "
        "and adjectives declined for gender, number and case (strong, weak and mixed declension), weak "
        "masculine nouns (`den jungen`), dative plural `-n`, subject-verb agreement (also with coordinated "
        "subjects), prepositions governing accusative or dative, `, dass` clauses after verbs of saying "
        "and thinking, adverbial clauses (`weil`, `obwohl`, `damit`, ...), coordination with `und`, "
        "`, aber`, `oder`. Words are lowercase ASCII (umlauts as ae/oe/ue, sharp s as ss).",
        "",
        f"Lexicon: {', '.join(f'{n} {k}' for k, n in L.LEXICON_SIZE.items())}; "
        f"{len(lex['en'])} English and {len(lex['de'])} Synthdeutsch dictionary forms. Vocabulary of the "
        f"train split (word types, inflected forms counted): {vocab['src']} English, {vocab['tgt']} "
        "Synthdeutsch.",
        "",
        "| phenomenon | English | Synthdeutsch |",
        "|---|---|---|",
    ]
    examples = [(what, S.render(tree)) for what, tree in _examples()]
    out += [f"| {what} | {p.src} | {p.tgt} |" for what, p in examples]
    out += [
        "",
        "## Alignment format",
        "",
        "`.align` holds, per pair, the links `i-j` (sure) and `i?j` (possible only), 0-based indices of the "
        "whitespace tokens of source (i) and target (j), sorted by (i, j): Pharaoh format with the AER "
        "convention of sure and possible links (every sure link is also possible). Every token of both "
        "sides has at least one link. Possible-only links: English do-support (`does`) to the finite "
        "verb, `to` of `give X to Y` to the dative article, the German comma before `dass` to `that`, a "
        "separable particle to the English verb when English has a particle of its own, and a relative "
        "clause's closing comma when only one language keeps it.",
        "",
        f"In the train split {sure} links are sure and {poss} possible ({sure / (sure + poss):.1%} sure); "
        f"{crossing:.1%} of the pairs have crossing links (reordering).",
        "",
        "Examples (`=` sure, `~` possible):",
        "",
    ]
    for what, p in examples[:5]:
        out += [f"- {what}", "", "  ```", f"  {p.src}", f"  {p.tgt}", f"  {p.alignment}", "  ```",
                f"  {_pharaoh_table(p)}", ""]
    out += ["## Lengths", "", *_length_table(data), "", *_histogram(train), "",
            "## Regenerate", "",
            "The files are a function of the seed and the sizes (`random.Random(seed)`, no hashing), "
            "and `tests/unit/test_synthetic.py` checks that the shipped files equal the default ones:",
            "", "```", "python scripts/make_synthetic.py                 # "
            f"--seed {args.seed} --train {args.train} --valid {args.valid} --test {args.test}",
            "```", "",
            "From Python: `from nmt.corpora.synthetic import generate, splits, write_splits` "
            "(`generate(n, seed)` samples pairs, `splits(seed, sizes)` gives disjoint "
            "train/valid/test, `write_splits(out_dir, seed, sizes)` writes these files).", ""]
    return "\n".join(out)


def _crosses(alignment: str) -> bool:
    links = sorted(tuple(map(int, x.replace("?", "-").split("-"))) for x in alignment.split())
    return any(j2 < j1 for (i1, j1), (i2, j2) in zip(links, links[1:]) if i2 > i1)


def main(argv=None) -> int:
    args = parse_args(argv)
    data = S.write_splits(args.out, seed=args.seed, sizes=(args.train, args.valid, args.test))
    if not args.no_readme:
        (Path(args.out) / "README.md").write_text(readme(data, args), encoding="utf-8")
    for name, pairs in data.items():
        print(f"{name}: {len(pairs)} pairs")
    size = sum(f.stat().st_size for f in Path(args.out).iterdir() if f.is_file())
    print(f"wrote {args.out} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
