"""The demo's data and preset: the embedded corpus cut to pairs of at most N words on both sides."""

from nmt.cli.common import embedded_splits
from nmt.config import preset


def test_max_words_keeps_exactly_the_short_pairs_of_every_split():
    full, short = embedded_splits(), embedded_splits(20)
    for name in ("train", "valid", "test"):
        expected = [(s, t) for s, t in full[name] if len(s.split()) <= 20 and len(t.split()) <= 20]
        assert short[name] == expected  # same pairs, same order
        assert 0 < len(short[name]) < len(full[name])
    assert max(len(s.split()) for s, _ in full["train"]) > 20  # the cut removes something real


def test_demo_preset_stops_on_a_target_within_its_own_data():
    config = preset("demo")
    assert 0 < config.train.target_bleu <= 100
    assert config.train.max_words == 20 and config.model.family == "rnn" and config.model.attention == "additive"
    assert config.train.eval_sentences <= len(embedded_splits(config.train.max_words)["valid"])
