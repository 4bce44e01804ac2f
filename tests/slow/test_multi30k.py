"""Real-data tests (Multi30k from ../shared/data); run with `pytest -m slow`."""

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def test_fetch_from_local_copy_and_read(shared_data, tmp_path):
    from nmt.corpora.fetch import fetch
    from nmt.corpora.parallel import read_parallel

    paths = fetch("multi30k", tmp_path, from_dir=shared_data / "multi30k", progress=False)
    assert len(paths) == 9
    counts = {split: len(read_parallel(tmp_path / f"{split}.en.gz", tmp_path / f"{split}.de.gz"))
              for split in ("train", "val", "test_2016_flickr")}
    assert counts == {"train": 29000, "val": 1014, "test_2016_flickr": 1000}


def test_in_graph_tokenizer_matches_sentencepiece(shared_data):
    import sentencepiece as spm
    import tensorflow as tf

    from nmt.corpora.parallel import read_parallel
    from nmt.tokenization import Tokenizer

    pairs = read_parallel(shared_data / "multi30k" / "val.en.gz", shared_data / "multi30k" / "val.de.gz")
    tokenizer = Tokenizer.train(pairs, vocab_size=2000)
    reference = spm.SentencePieceProcessor(model_proto=tokenizer.src_model)
    sources = [s for s, _ in pairs[:200]]
    ours = tokenizer.encode_source(tf.constant(sources)).to_list()
    assert ours == [reference.encode(s) + [3] for s in sources]
    targets = [t for _, t in pairs[:200]]
    ids = tokenizer.encode_target(tf.constant(targets))
    # Detokenizing gives back what SentencePiece itself gives back (its NFKC normalisation included).
    assert ([t.decode() for t in tokenizer.decode_target(ids).numpy()]
            == [reference.decode(reference.encode(t)) for t in targets])


def test_lstm_learns_multi30k(shared_data, tmp_path):
    """The small LSTM + additive attention learns real data: validation loss well below the unigram level."""
    from nmt import model_dir as md
    from nmt.config import preset
    from nmt.corpora.parallel import read_parallel
    from nmt.training import Trainer

    d = shared_data / "multi30k"
    train = read_parallel(d / "train.en.gz", d / "train.de.gz")
    valid = read_parallel(d / "val.en.gz", d / "val.de.gz")[:200]
    config = preset("small").override("train", max_steps=600, eval_every=300, eval_sentences=100)
    Trainer(config, tmp_path / "m", train, valid, progress=False).run()
    losses = [m["valid_loss"] for m in md.read_metrics(tmp_path / "m")]
    assert losses[-1] < losses[0] and losses[-1] < 4.0, losses
    assert np.isfinite(losses).all()
