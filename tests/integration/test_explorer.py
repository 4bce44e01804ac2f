"""nmt explore in a real browser: Debian's chromium driven by Playwright, every network request refused.

The numbers the page shows are checked against what ``nmt align`` exports (``--npz``) and prints
(``--gold``), for both families. A screenshot of the main view is written to ``test-artifacts/``.
"""

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from nmt import alignment as al
from nmt.config import preset
from nmt.corpora.synthetic import splits
from nmt.training import Trainer
from tests.integration.test_cli import one_line_error, run

CHROMIUM = os.environ.get("NMT_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TEST = splits()["test"][:12]
MODELS = {"lstm": {"family": "rnn", "attention": "additive"},
          "none": {"family": "rnn", "attention": "none"},
          "transformer": {"family": "transformer", "layers": 2, "d_model": 32, "ff_dim": 64, "transformer_heads": 2}}


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api",
                                     reason="the browser tests need playwright (pip install playwright)")
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        pytest.skip(f"the browser tests need chromium at {CHROMIUM} (apt-get install chromium)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM)
        yield b
        b.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explore")
    (folder / "test.en").write_text("".join(p.src + "\n" for p in TEST))
    (folder / "test.de").write_text("".join(p.tgt + "\n" for p in TEST))
    (folder / "test.align").write_text("".join(p.alignment + "\n" for p in TEST))
    data = splits(sizes=(1000, 50, 10))
    pairs = {k: [(p.src, p.tgt) for p in v] for k, v in data.items()}
    for name, overrides in MODELS.items():  # a few steps: the page shows what any weights give
        config = (preset("tiny").override("model", **overrides)
                  .override("train", max_steps=30, eval_every=30, eval_sentences=10)
                  .override("tokenizer", vocab_size=300))
        Trainer(config, folder / name, pairs["train"], pairs["valid"], progress=False).run()
    return folder


def explore(corpus, out, *args):
    code, _, err = run(["explore", *map(str, args), "-o", str(out)])
    assert code == 0, err
    assert out.is_file()
    return out


def align(corpus, family):
    """nmt align's links file and npz for the test pairs, and its per-sentence AER."""
    links, npz = corpus / f"{family}.links", corpus / f"{family}.npz"
    if not npz.exists():
        code, _, err = run(["align", str(corpus / family), "-s", str(corpus / "test.en"), "-t", str(corpus / "test.de"),
                            "--gold", str(corpus / "test.align"), "-o", str(links), "--npz", str(npz)])
        assert code == 0, err
    return links.read_text().splitlines(), np.load(npz)


class Page:
    """One page opened from disk; every request but the file itself is refused and recorded."""

    def __init__(self, browser, path, fragment=""):
        self.page = browser.new_page(viewport={"width": 1500, "height": 950})
        self.requests, self.errors = [], []
        self.url = url = path.resolve().as_uri()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", self._route)
        self.page.goto(url + fragment)
        self.page.wait_for_selector("body[data-ready='1']", timeout=20000)

    def _route(self, route):
        self.requests.append(route.request.url)
        if route.request.url.split("#")[0] == self.url:
            route.continue_()
        else:
            route.abort()

    def cell(self, m, t, s) -> str:
        """Hover cell (target row t, source column s) of model m's heatmap; the value the page prints."""
        canvas = self.page.locator(f"#matrix-{m}")
        box, d = canvas.bounding_box(), canvas.evaluate("e => ({...e.dataset})")
        assert t < int(d["rows"]) and s < int(d["cols"])
        cell = float(d["cell"])
        self.page.mouse.move(box["x"] + float(d["left"]) + (s + 0.5) * cell,
                             box["y"] + float(d["top"]) + (t + 0.5) * cell)
        info = self.page.locator(f"#info-{m}")
        assert info.get_attribute("data-row") == str(t) and info.get_attribute("data-col") == str(s)
        return info.get_attribute("data-value")

    def until(self, expression, seconds=10.0):
        """Wait until a JavaScript expression is true (polled with evaluate: the page's Content Security
        Policy refuses the eval that Playwright's wait_for_function uses)."""
        deadline = time.monotonic() + seconds
        while not self.page.evaluate(expression):
            assert time.monotonic() < deadline, f"timed out waiting for {expression}"
            time.sleep(0.02)

    def select(self, selector, value):
        """Choose an option and wait until the page has drawn it (the fragment says so)."""
        self.page.select_option(selector, value)
        key = selector.lstrip("#")
        self.until(f"new URLSearchParams(location.hash.slice(1)).get('{key}') === '{value}'")

    def sentence(self, i):
        self.page.click(f"#list li[data-index='{i}']")
        self.until(f"location.hash.includes('s={i}&') && document.querySelector('#panels').children.length > 0")

    def close(self):
        assert not self.errors, self.errors
        assert self.requests == [self.url], f"network requests besides the page: {self.requests}"
        self.page.close()


def test_lstm_cells_equal_npz_and_aer_equals_nmt_align(browser, corpus):
    path = explore(corpus, corpus / "lstm.html", corpus / "lstm", "-s", corpus / "test.en", "-t", corpus / "test.de",
                   "--gold", corpus / "test.align")
    lines, npz = align(corpus, "lstm")
    gold = [al.parse_pharaoh(p.alignment) for p in TEST]
    page = Page(browser, path)
    rng = np.random.default_rng(0)
    for i in (0, 3, 7):
        page.sentence(i)
        word = npz[f"word_matrix_{i}"]  # [Tw,Sw] nmt align's default view
        for t, s in zip(rng.integers(0, word.shape[0], 3), rng.integers(0, word.shape[1], 3)):
            assert page.cell(0, t, s) == f"{word[t, s]:.4f}"
        expected = al.alignment_error_rate([al.parse_pharaoh(lines[i]).sure], [gold[i]])
        assert page.page.get_attribute("#aer-0", "data-aer") == f"{expected.aer:.4f}"
        drawn = {link for link in page.page.eval_on_selector_all("#panel-0 svg.links line",
                                                                  "ls => ls.map(l => l.dataset.link)")}
        assert set(lines[i].split()) <= drawn  # every predicted link is drawn
    page.page.click("button[data-level='subword']")
    page.until("location.hash.includes('level=subword')")
    att = npz["attention_7"][0, 0]  # [T,S] with the </s> column
    assert page.cell(0, att.shape[0] - 1, att.shape[1] - 1) == f"{att[-1, -1]:.4f}"
    assert page.cell(0, 0, 0) == f"{att[0, 0]:.4f}"
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "explorer_lstm.png"))
    page.close()


def test_transformer_layer_and_head_switch(browser, corpus):
    path = explore(corpus, corpus / "tf.html", corpus / "transformer", "-s", corpus / "test.en", "-t",
                   corpus / "test.de", "--gold", corpus / "test.align")
    _, npz = align(corpus, "transformer")
    i = 2
    page = Page(browser, path, f"#s={i}&level=subword")
    att = npz[f"attention_{i}"]  # [L,H,T,S]
    cells = [(t, s) for t in range(att.shape[2]) for s in range(att.shape[3])]
    picks = [cells[k] for k in np.random.default_rng(1).choice(len(cells), 4, replace=False)]
    for layer, head in ((0, 0), (1, 1), (1, 0)):
        page.select("#layer", str(layer))
        page.select("#head", str(head))
        assert f"layer={layer}&head={head}" in page.page.evaluate("location.hash")
        for t, s in picks:
            assert page.cell(0, t, s) == f"{att[layer, head, t, s]:.4f}"
    assert any(f"{att[0, 0, t, s]:.4f}" != f"{att[1, 0, t, s]:.4f}" for t, s in cells)  # the switch can be seen
    # The fragment reopens the same view.
    fragment = page.page.evaluate("location.hash")
    page.close()
    again = Page(browser, path, fragment)
    assert again.page.eval_on_selector("#layer", "e => e.value") == "1"
    assert again.page.eval_on_selector("#head", "e => e.value") == "0"
    t, s = picks[0]
    assert again.cell(0, t, s) == f"{att[1, 0, t, s]:.4f}"
    again.select("#layer", "mean")
    again.select("#head", "mean")
    again.page.click("button[data-level='word']")
    again.until("location.hash.includes('level=word')")
    word = npz[f"word_matrix_{i}"]
    assert again.cell(0, 0, 0) == f"{word[0, 0]:.4f}"
    again.close()


def test_translations_nbest_compare_and_no_attention(browser, corpus):
    path = explore(corpus, corpus / "cmp.html", corpus / "lstm", "-s", corpus / "test.en", "--compare", corpus / "none",
                   "--beam-size", "3", "--n-best", "3")
    page = Page(browser, path)
    assert "no attention" in page.page.text_content("#panel-1")
    assert page.page.locator("#matrix-1").count() == 0
    assert page.page.locator("#panel-0 .nbest li").count() == 3
    rows = lambda: page.page.eval_on_selector("#matrix-0", "e => e.dataset.rows")  # noqa: E731
    hyps = page.page.evaluate("explorer.data.sentences[0].runs[0]")
    assert [h["score"] for h in hyps] == sorted((h["score"] for h in hyps), reverse=True)
    for k in (1, 2):
        page.page.click(f"#panel-0 .nbest li[data-hyp='{k}']")
        page.until(f"location.hash.includes('hyp={k}')")
        assert int(rows()) == len(hyps[k]["tgtWords"])  # the heatmap is that hypothesis' own
        page.cell(0, 0, 0)
        assert page.page.text_content("#info-0").startswith(f"“{hyps[k]['tgtWords'][0]}”")
    # Sorting: by length puts the shortest source first.
    page.page.select_option("#sort", "length")
    first = page.page.eval_on_selector("#list li", "e => +e.dataset.index")
    assert len(TEST[first].src.split()) == min(len(p.src.split()) for p in TEST)
    page.page.select_option("#sort", "disagreement")  # offered in compare mode; "none" has no links, so n/a
    page.page.fill("#search", TEST[5].src)
    assert page.page.eval_on_selector_all("#list li", "ls => ls.map(l => +l.dataset.index)") == [5]
    page.close()


def test_compare_sorts_by_disagreement(browser, corpus):
    path = explore(corpus, corpus / "two.html", corpus / "lstm", "-s", corpus / "test.en", "-t", corpus / "test.de",
                   "--compare", corpus / "transformer")
    page = Page(browser, path)
    page.page.select_option("#sort", "disagreement")
    data = page.page.evaluate("explorer.data.sentences.map(s => s.disagreement)")
    order = page.page.eval_on_selector_all("#list li", "ls => ls.map(l => +l.dataset.index)")
    assert [data[i] for i in order] == sorted(data, reverse=True)
    assert page.page.locator("#matrix-0").count() == 1 and page.page.locator("#matrix-1").count() == 1
    page.close()


def test_user_mistakes_are_one_line_and_write_nothing(corpus, tmp_path):
    out = tmp_path / "x.html"
    base = ["explore", str(corpus / "lstm"), "-s", str(corpus / "test.en")]
    one_line_error(*run(base + ["--gold", str(corpus / "test.align"), "-o", str(out)])[::2], "-t")
    one_line_error(*run(base + ["-t", str(corpus / "test.de"), "--n-best", "2", "-o", str(out)])[::2], "--n-best")
    one_line_error(*run(base + ["-o", str(tmp_path / "x.txt")])[::2], ".html")
    one_line_error(*run(base + ["-o", str(tmp_path / "missing" / "x.html")])[::2], "does not exist")
    one_line_error(*run(["explore", str(tmp_path / "nomodel"), "-s", str(corpus / "test.en"), "-o", str(out)])[::2])
    short = tmp_path / "short.de"
    short.write_text("a\n")
    one_line_error(*run(base + ["-t", str(short), "-o", str(out)])[::2], "lines")
    assert not list(tmp_path.glob("*.html")) and not list(tmp_path.glob(".x.html*"))


def test_every_attention_mechanism(browser, corpus):
    """Each registered mechanism (untrained weights on the LSTM's tokenizer: the page shows what any
    weights give) yields a page with its heatmap, a head switch for several heads, or the no-attention note."""
    from nmt import explorer, model_dir
    from nmt.attention import ATTENTION
    from nmt.config import Config
    from nmt.tokenization import Tokenizer
    from nmt.translator import Translator

    base, tokenizer = Config.load(corpus / "lstm" / model_dir.CONFIG), Tokenizer.load(corpus / "lstm")
    sources, targets = [p.src for p in TEST[:2]], [p.tgt for p in TEST[:2]]
    runs = []
    for name in sorted(ATTENTION.names()):
        config = base.override("model", attention=name, attention_units=16, heads=2)
        translator = Translator(model_dir.build(config, tokenizer), tokenizer)
        runs.append((explorer.describe(translator, config, name), translator.align(sources, targets)))
    for described, hyps in runs:
        path = corpus / f"mechanism-{described['attention']}.html"
        explorer.write(path, explorer.collect(sources, [(described, hyps)], mode="align"))
        page = Page(browser, path, "#s=1")
        panel = page.page.text_content("#panel-0")
        if described["attention"] == "none":
            assert "no attention" in panel and page.page.locator("#matrix-0").count() == 0
        else:
            assert page.page.eval_on_selector("#matrix-0", "e => +e.dataset.rows") == len(TEST[1].tgt.split())
            assert page.page.locator("#head").count() == (1 if described["heads"] > 1 else 0)
            value = float(page.cell(0, 0, 0))
            assert 0.0 <= value <= 1.0
        page.close()


def test_demo_writes_the_explorer_of_its_test_translations(browser, corpus):
    """nmt demo's last step (nmt.cli.demo._explorer) on a trained model's beam-4 translations."""
    from nmt.cli.demo import _explorer
    from nmt.translator import Translator

    translator = Translator.load(corpus / "lstm")
    sources = [p.src for p in TEST]
    hyps = translator.translate(sources, beam_size=4, return_attention=True)
    path = _explorer(corpus / "lstm", translator, sources, hyps)
    assert path == corpus / "lstm" / "explorer.html"
    page = Page(browser, path, "#s=4")
    assert page.page.evaluate("explorer.data.sentences.length") == len(TEST)
    assert page.page.text_content("#panel-0 .nbest li").endswith(hyps[4].text)
    page.close()


def test_empty_and_odd_lines(browser, corpus):
    """An empty line, markup and characters the tokenizer normalises are shown as text, without errors."""
    from nmt import explorer
    from nmt.config import Config
    from nmt.model_dir import CONFIG
    from nmt.translator import Translator

    sources = ["", "</script><b>x</b> ﬁne ² the dog"]
    translator = Translator.load(corpus / "lstm")
    hyps = translator.translate(sources, beam_size=2, return_attention=True)
    path = corpus / "odd.html"
    described = explorer.describe(translator, Config.load(corpus / "lstm" / CONFIG), "lstm")
    explorer.write(path, explorer.collect(sources, [(described, hyps)]))
    for i, source in enumerate(sources):
        page = Page(browser, path, f"#s={i}&level=subword")
        assert page.page.text_content("#sentence .source") == source
        assert page.page.eval_on_selector("#matrix-0", "e => +e.dataset.cols") == len(hyps[i].source_tokens)
        assert page.page.locator("#sentence b").count() == 0  # the markup stayed text
        page.close()
