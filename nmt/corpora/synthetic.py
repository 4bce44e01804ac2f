"""Synthdeutsch: the embedded English -> German-like parallel corpus, with gold word alignments.

A sentence is drawn as an abstract tree (clauses, noun phrases, prepositional phrases) and rendered
twice, by an English and by a Synthdeutsch renderer: a synchronous grammar. Every rendered word
carries anchors, keys ``(id(node), role)`` of the tree node it expresses, marked sure or possible; a
source and a target word are linked when they share a key (sure when both mark it sure). Since only
the strings are kept, the target must be a function of the source string: there are no synonyms,
and the English side has no attachment ambiguity (PPs attach only to verbs, only subjects
coordinate, only main clauses coordinate or front a constituent, relative clauses are set off by
commas and contain no clause, a clause with a ``that`` complement has no trailing adjunct).

Phenomena: verb-second main clauses (a fronted adverb, PP or adverbial clause inverts subject and
verb), verb-final subordinate and relative clauses, separable verbs (``ruft ... an`` / ``anruft``),
perfect with ``haben``/``sein`` and the participle last, ``will``/``can``/``must`` with the
infinitive last, ``nicht`` after the objects, middle-field order (pronouns, adverb, dative,
accusative), articles and adjectives declined for gender, number and case (strong/weak/mixed), weak
masculine nouns, dative plural ``-n``, agreement with coordinated subjects, ``, dass`` clauses.
Words are lowercase ASCII (umlauts as ae/oe/ue, sharp s as ss). Alignments are Pharaoh ``i-j``
(sure) and ``i?j`` (possible only), sorted; every token of both sides has at least one link.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import NamedTuple

from nmt.corpora.synthetic_lexicon import (
    ADJS,
    ADVS,
    ANIMATE,
    AUX,
    COMP,
    CONJS,
    COORDS,
    DEF,
    DETS,
    DITRANS,
    INTRANS,
    NOUNS,
    NUMBERS,
    PERSONS,
    PREPS,
    PRONOUNS,
    STRONG,
    TENSES,
    TRANS,
    VERBS,
    Noun,
    Verb,
    s_ending,
)


class Pair(NamedTuple):
    src: str
    tgt: str
    alignment: str  # sorted "i-j" (sure) and "i?j" (possible) links, 0-based word indices; "" when not asked for


DEFAULT_SEED, DEFAULT_SIZES = 1234, (20000, 500, 1000)  # sizes: (train, valid, test)


# ---------------------------------------------------------------- rendering: tree -> tokens ----
# A token is (word, sure_keys, possible_keys). ",?" is the closing comma of a relative clause; it is
# dropped before "." and ",".

def _t(w: str, *sure, p=()) -> tuple:
    return (w, sure, p)


def _infl(adj: str, ending: str) -> str:
    return adj + (ending[1:] if adj.endswith("e") else ending)


def _conj(v, person: int) -> str:
    if person == 0:
        return v.inf[:-2] + "e"
    if person == 1:
        return v.s3 if v.s3.endswith(("st", "zt")) else v.s3[:-1] + "st"
    return v.s3 if person == 2 else v.inf


def _person(np: dict) -> int:
    return np["pr"].person if "pr" in np else 4 if "co" in np or np["pl"] else 2


def _en_np(np: dict, case: str = "obj") -> list:
    k = id(np)
    if "pr" in np:
        return [_t(np["pr"].en if case == "nom" else np["pr"].obj, (k, "n"))]
    if "co" in np:
        return _en_np(np["co"][0], case) + [_t("and", (k, "and"))] + _en_np(np["co"][1], case)
    n, out = np["n"], []
    if np["det"]:
        w = DETS[np["det"]].en_pl if np["pl"] else DETS[np["det"]].en
        vowel = (np["adjs"][0].en if np["adjs"] else n.en)[0] in "aeiou"
        out.append(_t("an" if w == "a" and vowel else w, (k, "d")))
    out += [_t(a.en, (k, i)) for i, a in enumerate(np["adjs"])] + [_t(n.en_pl if np["pl"] else n.en, (k, "n"))]
    return out + (_en_clause(np["rel"]) if np["rel"] else [])


def _de_np(np: dict, case: str) -> list:
    k = id(np)
    if "pr" in np:
        out = [_t(getattr(np["pr"], "de" if case == "nom" else case), (k, "n"))]
    elif "co" in np:
        out = _de_np(np["co"][0], case) + [_t("und", (k, "and"))] + _de_np(np["co"][1], case)
    else:
        n, pl, d, out = np["n"], np["pl"], DETS.get(np["det"]), []
        g = "p" if pl else n.g
        bare = d is not None and d.kind == "ein" and (case, g) in (("nom", "m"), ("nom", "n"), ("acc", "n"))
        if d:  # der/dies-words take strong endings and weaken the adjective; ein-words do unless bare
            w = DEF[case][g] if d.kind == "def" else d.de if d.kind == "num" or bare else d.de + STRONG[case][g]
            out.append(_t(w, (k, "d")))
        weak = "e" if (case == "nom" and g != "p") or (case == "acc" and g in "fn") else "en"
        end = STRONG[case][g] if d is None or d.kind == "num" or bare else weak
        out += [_t(_infl(a.de, end), (k, i)) for i, a in enumerate(np["adjs"])]
        noun = n.de_pl if pl or (n.weak and case != "nom") else n.de
        noun += "n" if pl and case == "dat" and not noun.endswith(("n", "s")) else ""
        out += [_t(noun, (k, "n"))] + (_de_clause(np["rel"]) if np["rel"] else [])
    if case == "dat":  # English "to" (give X to Y) is a possible link of the case-marked first word
        out[0] = (out[0][0], out[0][1], out[0][2] + ((k, "case"),))
    return out


def _en_verb(c: dict) -> list:
    v, k, t, p3 = c["v"], id(c), c["tense"], _person(c["subj"] or c["head"]) == 2
    keys = ((k, "v"),) if v.en_prt else ((k, "v"), (k, "prt"))  # "arrive" is also "an" of "ankommen"
    if t == "pres" and not c["neg"]:
        return [_t(s_ending(v.en) if p3 else v.en, *keys)]
    aux = ("does" if p3 else "do") if t == "pres" else ("has" if p3 else "have") if t == "perf" else t
    out = [_t(aux, (k, "do" if t == "pres" else "aux"))] + ([_t("not", (k, "neg"))] if c["neg"] else [])
    return out + [_t(v.en_pp if t == "perf" else v.en, *keys)]


def _de_verb(c: dict) -> tuple:
    """(finite verb, right bracket of a main clause, verb-final cluster)."""
    v, k, t, p = c["v"], id(c), c["tense"], _person(c["subj"] or c["head"])
    if t == "pres":
        form, do = _conj(v, p), ((k, "do"),)  # English do-support is a possible link of the verb
        right = [_t(v.prt, (k, "prt"), p=((k, "v"),))] if v.prt else []
        return _t(form, (k, "v"), p=do), right, [_t(v.prt + form, (k, "v"), (k, "prt"), p=do)]
    nonfin = _t(v.prt + (v.pp if t == "perf" else v.inf), (k, "v"), (k, "prt"))
    fin = _t(AUX[v.aux if t == "perf" else t].split()[p], (k, "aux"))
    return fin, [nonfin], [nonfin, fin]


def _sub(s: dict, de: bool) -> list:  # conjunction + subordinate clause
    words = [s["c"].de] if de else s["c"].en.split()
    return [_t(w, (id(s), "conj")) for w in words] + (_de_clause if de else _en_clause)(s["cl"])


def _pp(pp: dict, de: bool) -> list:
    if de:
        return [_t(pp["p"].de, (id(pp), "p"))] + _de_np(pp["np"], pp["p"].tag)
    return [_t(pp["p"].en, (id(pp), "p"))] + _en_np(pp["np"])


def _frame(c: dict, de: bool) -> tuple:
    """What both languages share: fronted part, adverb, PPs, trailing that-clause and adverbial clauses,
    relative pronoun with its commas."""
    k, f = id(c), c["front"]
    adv = [_t(getattr(c["adv"], "de" if de else "en"), (k, "adv"))] if c["adv"] else []
    front = adv if f == "adv" else _pp(c["pps"][0], de) if f == "pp" else \
        _sub(c["subs"][0], de) + [_t(",", (id(c["subs"][0]), ","))] if f == "sub" else []
    pps = [t for pp in c["pps"][f == "pp":] for t in _pp(pp, de)]
    tail = []
    if c["comp"]:
        ck = (id(c["comp"]), "conj")  # German comma before "dass": possible link of "that"
        tail = ([_t(",", p=(ck,)), _t("dass", ck)] if de else [_t("that", ck)]) + \
            (_de_clause if de else _en_clause)(c["comp"])
    tail += [t for s in c["subs"][f == "sub":] for t in [_t(",", (id(s), ","))] + _sub(s, de)]
    rel, close = [], []
    if c["kind"] == "rel":
        h = c["head"]
        rp = DEF["nom" if c["role"] == "s" else "acc"]["p" if h["pl"] else h["n"].g] if de else \
            "who" if h["n"].cls == "p" else "which"
        rel, close = [_t(",", (k, "c1")), _t(rp, (k, "rp"))], [_t(",?", (k, "c2"), p=((k, "c1"),))]
    return front, ([] if f == "adv" else adv), pps, tail, rel, close


def _en_clause(c: dict) -> list:
    front, adv, pps, tail, rel, close = _frame(c, False)
    acc, dat, v = c["acc"], c["dat"], c["v"]
    if dat:
        to = [_t("to", p=((id(dat), "case"),))]
        objs = _en_np(acc) + to + _en_np(dat) if c["to"] else _en_np(dat) + _en_np(acc)
    else:
        objs = _en_np(acc) if acc else []
    prt = [_t(v.en_prt, (id(c), "prt"))] if v.en_prt else []
    subj = _en_np(c["subj"], "nom") if c["subj"] else []
    return front + rel + subj + _en_verb(c) + (objs + prt if c["late"] else prt + objs) + pps + adv + tail + close


def _de_clause(c: dict) -> list:
    front, adv, pps, tail, rel, close = _frame(c, True)
    fin, right, final = _de_verb(c)
    objs = [(o, case) for o, case in ((c["acc"], "acc"), (c["dat"], "dat")) if o]
    mid = [t for o, case in objs if "pr" in o for t in _de_np(o, case)] + adv  # pronouns: accusative first
    mid += [t for o, case in reversed(objs) if "pr" not in o for t in _de_np(o, case)]  # nouns: dative first
    mid += ([_t("nicht", (id(c), "neg"))] if c["neg"] else []) + pps
    subj = _de_np(c["subj"], "nom") if c["subj"] else []
    if c["kind"] == "main":  # verb second
        return (front + [fin] + subj if front else subj + [fin]) + mid + right + tail
    return rel + subj + mid + final + tail + close  # verb final


def _align(en: list, de: list) -> str:
    """Link words sharing an anchor; sure when both sides mark that anchor sure."""
    def anchors(tok):
        return [(x, True) for x in tok[1]] + [(x, False) for x in tok[2]]
    index: dict = {}
    for i, tok in enumerate(en):
        for key, s in anchors(tok):
            index.setdefault(key, []).append((i, s))
    links: dict = {}
    for j, tok in enumerate(de):
        for key, s in anchors(tok):
            for i, s_en in index.get(key, ()):
                links[i, j] = links.get((i, j), False) or (s and s_en)
    return " ".join(f"{i}{'-' if s else '?'}{j}" for (i, j), s in sorted(links.items()))


def render(sentence: dict, align: bool = True) -> Pair:
    """Render a sentence tree: a main ``clause`` or a ``coordination`` of two. ``align=False`` leaves the
    gold alignment empty (a third of the time of generating a corpus goes into it)."""
    sides = []
    for de, clause_fn in ((False, _en_clause), (True, _de_clause)):
        if "cc" in sentence:
            k, cc = id(sentence), sentence["cc"]
            toks = clause_fn(sentence["l"]) + ([_t(",", (k, ","))] if cc.tag else [])
            toks += [_t(cc.de if de else cc.en, (k, "cc"))] + clause_fn(sentence["r"])
        else:
            toks = clause_fn(sentence)
        toks += [_t(".", (".",))]
        sides.append([(",",) + t[1:] if t[0] == ",?" else t for i, t in enumerate(toks)
                      if t[0] != ",?" or toks[i + 1][0] not in (".", ",")])
    for toks, other in ((sides[0], sides[1]), (sides[1], sides[0])):  # a closing comma that both sides
        keys = {key for t in other for key in t[1]}  # kept links only to its counterpart
        toks[:] = [(w, s, ()) if w == "," and s and s[0][1] == "c2" and s[0] in keys else (w, s, p)
                   for w, s, p in toks]
    en, de = sides
    return Pair(" ".join(t[0] for t in en), " ".join(t[0] for t in de), _align(en, de) if align else "")


# --------------------------------------------- tree builders (used by the sampler and by tests) ----

def _find(table: list, en):
    """The entry of ``table`` whose English form is ``en`` (verbs with their particle: "call up")."""
    if not isinstance(en, str):
        return en
    for x in table:
        if " ".join(filter(None, (x.en, getattr(x, "en_prt", "")))) == en:
            return x
    raise KeyError(f"{en!r} is not in the Synthdeutsch lexicon")


def noun_phrase(noun, det: str | None = "the", plural: bool = False, adjs=(), rel: dict | None = None) -> dict:
    """A noun phrase; ``noun``, ``adjs``: English words (or entries); ``det``: a key of DETS or None."""
    np = {"n": _find(NOUNS, noun), "pl": plural, "det": det, "adjs": [_find(ADJS, a) for a in adjs], "rel": rel}
    if rel:
        rel["head"] = np
    return np


def pronoun(en: str) -> dict:
    return {"pr": _find(PRONOUNS, en)}


def coordinated(a: dict, b: dict) -> dict:
    return {"co": [a, b]}


def clause(subj: dict | None, verb, acc: dict | None = None, dat: dict | None = None, *, kind: str = "main",
           tense: str = "pres", neg: bool = False, to: bool = False, late: bool = False, pps=(), adv=None,
           front: str | None = None, comp: dict | None = None, subs=(), role: str = "s") -> dict:
    """A clause; ``kind``: main, sub (under ``comp=`` or ``subs=``) or rel (under ``noun_phrase(rel=)``,
    ``role`` "s" subject or "o" object relative, ``subj`` None for "s"). ``pps``: [(preposition, np)],
    ``subs``: [(conjunction, clause)] adverbial clauses, ``comp``: a that-clause, ``to``: "give X to Y",
    ``late``: English particle after the object, ``front`` (main clauses): "adv", "pp" (the first PP) or
    "sub" (the first adverbial clause) goes first. Words are English forms or lexicon entries."""
    return {"kind": kind, "subj": subj, "v": _find(VERBS, verb), "acc": acc, "dat": dat, "tense": tense,
            "neg": neg, "to": to, "late": late, "pps": [{"p": _find(PREPS, p), "np": n} for p, n in pps],
            "adv": _find(ADVS, adv) if adv else None, "front": front, "comp": comp, "role": role,
            "head": None, "subs": [{"c": _find(CONJS, c), "cl": s} for c, s in subs]}


def coordination(cc, left: dict, right: dict) -> dict:
    """Two main clauses joined by "and", "but" or "or"."""
    return {"cc": _find(COORDS, cc), "l": left, "r": right}


# ------------------------------------------------------------------------------- sampling ----
SG_DETS, SG_W = ["the", "a", "this", "every", "no", "my", "his", "our", "your"], (9, 4, 1, 1, 1, 1, 1, 1, 1)
PL_DETS = ["the", None, "this", "no", "my", "his", "our", "your"] + [x.split(":")[0] for x in NUMBERS]
PL_W = (7, 5, 1, 1, 1, 1, 1, 1) + (0.5,) * len(NUMBERS)


class _Sampler:
    def __init__(self, rng: random.Random):
        self.r = rng

    def pick(self, seq, weights):
        return self.r.choices(seq, weights)[0]

    def np(self, nouns: list, rel_ok: bool, pron: float = 0.0, coord: float = 0.0) -> dict:
        r = self.r
        if r.random() < pron:
            return {"pr": r.choice(PRONOUNS)}
        if r.random() < coord:
            return coordinated(self.np(nouns, False), self.np(nouns, False))
        noun, pl = r.choice(nouns), r.random() < 0.3
        det = self.pick(PL_DETS, PL_W) if pl else self.pick(SG_DETS, SG_W)
        adjs = r.sample(ADJS, self.pick((0, 1, 2), (0.65, 0.28, 0.07)))
        return noun_phrase(noun, det, pl, adjs, self.rel(noun) if rel_ok and r.random() < 0.08 else None)

    def rel(self, noun: Noun) -> dict:
        if noun.cls != "t" and self.r.random() < 0.6:
            return self.fill("rel", self.r.choice(INTRANS + TRANS), None, 9, "s")
        return self.fill("rel", self.r.choice(TRANS), self.np(ANIMATE, False, pron=0.2), 9, "o")

    def clause(self, kind: str, depth: int) -> dict:
        v = self.r.choice(self.pick((INTRANS, TRANS, DITRANS, COMP), (0.32, 0.42, 0.12, 0.14 if depth < 3 else 0)))
        return self.fill(kind, v, self.np(PERSONS if v.frame in "dc" else ANIMATE, True, 0.25, 0.06), depth)

    def fill(self, kind: str, v: Verb, subj: dict | None, depth: int, role: str = "s") -> dict:
        r, rel_ok = self.r, kind != "rel"
        tense = self.pick(TENSES, (0.45, 0.25, 0.12, 0.09, 0.09))
        acc = self.np(NOUNS, rel_ok, pron=0.15) if v.frame in "td" and role == "s" else None
        dat = self.np(PERSONS, rel_ok, pron=0.25) if v.frame == "d" else None
        tag = {"pres": "p", "perf": "f"}.get(tense, "w")
        adv = r.choice([a for a in ADVS if tag in a.tag]) if r.random() < 0.25 else None
        n_pp = 0 if v.frame == "c" else self.pick((0, 1, 2), (0.7, 0.25, 0.05))
        pps = [(r.choice(PREPS), self.np(NOUNS, rel_ok)) for _ in range(n_pp)]
        comp = self.clause("sub", depth + 1) if v.frame == "c" else None
        subs = []
        while kind != "rel" and len(subs) < 2 and r.random() < 0.16 * 0.6 ** depth:
            subs.append((r.choice(CONJS), self.clause("sub", depth + 1)))
        front = None
        if kind == "main":
            opts = [f for f, ok in (("adv", adv), ("pp", pps), ("sub", subs)) if ok]
            front = r.choice(opts) if opts and r.random() < 0.4 else None
        if comp and adv and front != "adv":  # no trailing adjunct after a that-clause: front it or drop it
            front, adv = ("adv", adv) if kind == "main" else (front, None)
        return clause(subj, v, acc, dat, kind=kind, tense=tense, neg=r.random() < 0.12, role=role,
                      to=dat is not None and ("pr" in acc or r.random() < 0.5),
                      late=acc is not None and ("pr" in acc or r.random() < 0.5),
                      pps=pps, adv=adv, front=front, comp=comp, subs=subs)

    def sentence(self) -> dict:
        c = self.clause("main", 0)
        return coordination(self.r.choice(COORDS), c, self.clause("main", 1)) if self.r.random() < 0.12 else c


def generate(n: int, seed: int = DEFAULT_SEED) -> list[Pair]:
    """``n`` independently sampled pairs (duplicates possible); the same seed gives the same list."""
    s = _Sampler(random.Random(seed))
    return [render(s.sentence()) for _ in range(n)]


def splits(seed: int = DEFAULT_SEED, sizes: tuple[int, int, int] = DEFAULT_SIZES,
           align: bool = True) -> dict[str, list[Pair]]:
    """Train/valid/test with pairwise distinct source sentences (test is drawn first, then valid, then
    train, so the held-out sets do not change with the train size); ``align=False``: no gold alignments."""
    s, seen, out = _Sampler(random.Random(seed)), set(), {}
    for name, n in (("test", sizes[2]), ("valid", sizes[1]), ("train", sizes[0])):
        out[name] = []
        while len(out[name]) < n:
            pair = render(s.sentence(), align)
            if pair.src not in seen:
                seen.add(pair.src)
                out[name].append(pair)
    return {name: out[name] for name in ("train", "valid", "test")}


def write_splits(out_dir, seed: int = DEFAULT_SEED, sizes: tuple[int, int, int] = DEFAULT_SIZES):
    """Write ``{split}.en``, ``{split}.de``, ``{split}.align`` under ``out_dir``; returns the splits."""
    out, data = Path(out_dir), splits(seed, sizes)
    out.mkdir(parents=True, exist_ok=True)
    for name, pairs in data.items():
        for ext, field in (("en", 0), ("de", 1), ("align", 2)):
            with open(out / f"{name}.{ext}", "w", encoding="utf-8", newline="\n") as f:
                f.writelines(p[field] + "\n" for p in pairs)
    return data
