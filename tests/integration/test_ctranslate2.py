"""nmt export --format ctranslate2: the converted Transformer translates exactly as nmt does (greedy)."""

import json

import pytest

from tests.integration.test_cli import run, write_corpus

pytest.importorskip("ctranslate2", reason="ctranslate2 is not installed (pip install 'nmt[ctranslate2]')")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ct2")
    src, _ = write_corpus(folder)
    return folder, src


# the first variant also has one SentencePiece model per language: sources must be cut with the source one
@pytest.mark.slow  # 48 s and more: training, conversion and two decoders
@pytest.mark.parametrize("variant", [["--pre-norm", "--lr", "0.003", "--separate-vocab"],
                                     pytest.param(["--post-norm", "--positions", "learned", "--lr", "0.001"],
                                                  marks=pytest.mark.slow)],
                         ids=["pre-norm-sinusoidal", "post-norm-learned"])
def test_converted_transformer_translates_identically(corpus, variant):
    folder, src = corpus
    name = variant[0].strip("-")
    code, _, err = run(["train", "--model-dir", str(folder / name), "--train-src", str(folder / "train.src"),
                        "--train-tgt", str(folder / "train.tgt"), "--preset", "tiny", "--vocab-size", "30",
                        "--model", "transformer", "--layers", "2", "--steps", "120", "--no-progress",
                        *variant])
    assert code == 0, err
    code, out, err = run(["export", str(folder / name), str(folder / f"{name}.ct2"), "--format", "ctranslate2"])
    assert code == 0, err
    assert json.loads(out)["format"] == "ctranslate2"

    from nmt.ctranslate2_export import CTranslate2Translator
    from nmt.translator import Translator

    sentences = src[:60] + ["kl kl kl kl kl kl kl kl", "ab"]  # (CTranslate2 returns "" for an empty source)
    ours = Translator.load(folder / name)
    decode = ours.decode_config
    theirs = CTranslate2Translator(folder / f"{name}.ct2").translate(
        sentences, beam_size=1, max_length_a=decode.max_length_a, max_length_b=decode.max_length_b,
        per_sentence_limit=True)
    expected = [h.text for h in ours.translate(sentences, beam_size=1)]
    assert theirs == expected
    assert len(set(expected)) > 10  # a model that says one thing for everything would prove little


def test_ctranslate2_mistakes(corpus, tmp_path):
    folder, _ = corpus
    code, _, err = run(["train", "--model-dir", str(tmp_path / "lstm"), "--train-src", str(folder / "train.src"),
                        "--train-tgt", str(folder / "train.tgt"), "--preset", "tiny", "--vocab-size", "30",
                        "--model", "rnn", "--steps", "2", "--no-progress"])
    assert code == 0, err
    for args, message in [([], "only Transformer models convert"),
                          (["--beam-size", "4"], "--beam-size apply to --format savedmodel")]:
        code, _, err = run(["export", str(tmp_path / "lstm"), str(tmp_path / "out"), "--format", "ctranslate2", *args])
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    code, _, err = run(["export", str(tmp_path / "lstm"), str(tmp_path / "out"), "--quantization", "int8"])
    assert code == 2 and "--format ctranslate2 only" in err, err
    assert not (tmp_path / "out").exists()
