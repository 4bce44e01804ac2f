"""The explorer's writer: storage of matrices, the data it collects from hypotheses, the page it writes."""

import json
import re

import numpy as np
import pytest

from nmt import alignment as al, explorer
from nmt.translator import Hypothesis


def hypothesis(rng, layers, heads, src="the man sees the dog .", tgt="der mann sieht den hund ."):
    src_pieces = ["▁" + w for w in src.split()] + ["</s>"]
    tgt_pieces = ["▁" + w for w in tgt.split()]
    logits = rng.normal(size=(layers, heads, len(tgt_pieces), len(src_pieces))) * 3
    att = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)  # [L,H,T,S] rows sum to 1
    return Hypothesis(tgt, tgt_pieces, -1.25, src_pieces, att.astype(np.float32))


def model(layers, heads, informative=True):
    return {"name": "m", "family": "transformer", "attention": "x", "layers": layers, "heads": heads,
            "informative": informative, "views": [[str(layer), str(h)] for layer, h in explorer.views(layers, heads)]}


def test_views_hold_each_layer_and_head_and_the_means_only_where_there_are_several():
    assert explorer.views(1, 1) == [(0, 0)]
    assert explorer.views(1, 3) == [(0, 0), (0, 1), (0, 2), (0, "mean")]
    assert len(explorer.views(3, 4)) == 4 * 5 and explorer.views(3, 4)[-1] == ("mean", "mean")
    assert explorer.default_view(3, 4) == 19


def test_stored_values_are_the_float32_weights_to_four_decimals():
    rng = np.random.default_rng(0)
    a, b = rng.random((7, 9)).astype(np.float32), rng.random((3, 2))
    flat = explorer.unpack(explorer.pack([a, b]))
    assert flat.dtype == np.uint16 and flat.size == a.size + b.size
    printed = [f"{v / explorer.SCALE:.4f}" for v in flat]
    expected = [f"{v:.4f}" for v in np.concatenate([a.ravel(), b.astype(np.float32).ravel()])]
    assert printed == expected
    assert explorer.unpack(explorer.pack([np.array([[0.0, 1.0]])])).tolist() == [0, 10000]


@pytest.mark.parametrize("layers, heads", [(1, 1), (2, 3)])
def test_collect_gives_every_view_as_nmt_align_computes_it(layers, heads):
    rng = np.random.default_rng(layers)
    hyp = hypothesis(rng, layers, heads)
    gold = al.parse_pharaoh("0-0 1-1 2-2 3-3 4-4 5?5")
    data = explorer.collect(["the man sees the dog ."], [(model(layers, heads), [hyp])], [gold], "align")
    rec = data["sentences"][0]["runs"][0][0]
    views = explorer.views(layers, heads)
    T, S, Tw, Sw = len(rec["tgtPieces"]), len(rec["srcPieces"]), len(rec["tgtWords"]), len(rec["srcWords"])
    assert len(rec["matrices"]) == len(views)
    for v, (layer, head) in enumerate(views):
        a = al.reduce_all([hyp], layer, head)[0]
        flat = explorer.unpack(rec["matrices"][v])
        assert flat.size == T * S + Tw * Sw
        sub = flat[:T * S].reshape(T, S) / explorer.SCALE
        word = flat[T * S:].reshape(Tw, Sw) / explorer.SCALE
        np.testing.assert_allclose(sub, a.subword, atol=0.5e-4 + 1e-7)
        np.testing.assert_allclose(word, a.word, atol=0.5e-4 + 1e-7)
        assert rec["links"][v] == [list(link) for link in a.links]
        r = al.alignment_error_rate([a.links], [gold])
        assert rec["aer"][v] == [round(r.aer, 4), round(r.precision, 4), round(r.recall, 4)]
    assert data["sentences"][0]["gold"] == {"sure": [[i, i] for i in range(5)], "possible": [[5, 5]]}


def test_a_model_without_attention_stores_no_matrices_and_nbest_lists_are_kept():
    rng = np.random.default_rng(3)
    hyps = [[hypothesis(rng, 1, 1), hypothesis(rng, 1, 1, tgt="ein mann sieht .")]]
    data = explorer.collect(["the man sees the dog ."], [(model(1, 1, informative=False), hyps)])
    runs = data["sentences"][0]["runs"][0]
    assert len(runs) == 2 and runs[1]["tgtWords"] == ["ein", "mann", "sieht", "."]
    assert all(r["matrices"] is None and r["links"] is None for r in runs)


def test_disagreement_is_one_minus_the_overlap_of_the_links():
    a = {"tgtWords": ["x", "y"], "links": [[[0, 0], [1, 1]]]}
    assert explorer.disagreement(a, a) == 0.0
    assert explorer.disagreement(a, {"tgtWords": ["x", "y"], "links": [[[0, 0], [0, 1]]]}) == round(1 - 1 / 3, 4)
    # different translations: compared by (source word, target word text)
    assert explorer.disagreement(a, {"tgtWords": ["z", "x"], "links": [[[0, 1]]]}) == 0.5
    assert explorer.disagreement(a, {"tgtWords": [], "links": None}) is None


def test_the_page_inlines_everything_and_text_cannot_close_its_script(tmp_path):
    rng = np.random.default_rng(4)
    evil = "a </script><script>alert(1)</script> <!-- b"
    hyp = hypothesis(rng, 1, 2, src=evil)
    path = tmp_path / "page.html"
    explorer.write(path, explorer.collect([evil], [(model(1, 2), [hyp])], title="<t>"))
    html = path.read_text()
    assert html.count("</script>") == 2 and "alert(1)</script>" not in html  # the data and the page's script
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # nothing fetched
    assert "<title>&lt;t&gt;</title>" in html
    payload = re.search(r'<script type="application/json" id="data">(.*?)</script>', html, re.S).group(1)
    assert json.loads(payload)["sentences"][0]["source"] == evil
    for marker in ("/*STYLE*/", "/*SCRIPT*/", "/*DATA*/", "/*TITLE*/"):
        assert marker not in html


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    path = tmp_path / "page.html"
    monkeypatch.setattr(explorer, "render", lambda data: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        explorer.write(path, {})
    assert list(tmp_path.iterdir()) == []
