"""BLEU by sentence length (the lesson's Fig. 2), drawn honestly: buckets too small to mean anything are
merged, each bucket states its sentence count, and each point has a bootstrap confidence interval."""

import json
import random

from hypothesis import given, settings, strategies as st

from nmt.evaluation import bleu_by_length, length_buckets


@settings(max_examples=200, deadline=None)
@given(lengths=st.lists(st.integers(1, 80), min_size=1, max_size=300), minimum=st.integers(1, 60))
def test_buckets_partition_the_sentences_and_are_big_enough(lengths, minimum):
    buckets = length_buckets(lengths, min_sentences=minimum)
    indices = sorted(i for _, _, idx in buckets for i in idx)
    assert indices == list(range(len(lengths)))  # every sentence in exactly one bucket
    for lo, hi, idx in buckets:
        assert all(lo < lengths[i] <= hi for i in idx)
    assert all(a[1] <= b[0] for a, b in zip(buckets, buckets[1:]))  # ordered, not overlapping
    if len(buckets) > 1:
        assert all(len(idx) >= minimum for _, _, idx in buckets)
    else:
        assert len(buckets) == 1


def test_the_lessons_figure_would_have_merged_its_last_point():
    """The 30-minute report's test set: 412 / 551 / 35 / 2 sentences of 1-10 / 11-20 / 21-30 / 31-40 words."""
    lengths = [5] * 412 + [15] * 551 + [25] * 35 + [35] * 2
    buckets = [(lo, hi, len(idx)) for lo, hi, idx in length_buckets(lengths)]
    assert buckets == [(0, 10, 412), (10, 20, 551), (20, 40, 37)]


def _corpus(n, seed=0):
    rng = random.Random(seed)
    words = "the a cat dog sat ran on under mat house big small".split()
    refs = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 45))) for _ in range(n)]
    hyps = [" ".join(w if rng.random() < 0.7 else rng.choice(words) for w in r.split()) for r in refs]
    return refs, hyps, refs


def test_each_interval_holds_its_estimate_and_is_reproducible():
    sources, hyps, refs = _corpus(400)
    first = bleu_by_length(sources, hyps, refs, resamples=300)
    assert first == bleu_by_length(sources, hyps, refs, resamples=300)  # seeded
    assert sum(b["sentences"] for b in first) == 400
    for b in first:
        low, high = b["ci95"]
        assert low <= b["bleu"] <= high and high - low > 0
    other_seed = bleu_by_length(sources, hyps, refs, resamples=300, seed=1)
    assert [b["bleu"] for b in other_seed] == [b["bleu"] for b in first]  # the estimate does not resample


def test_more_sentences_give_a_narrower_interval():
    small = bleu_by_length(*_corpus(60), edges=(), resamples=500)[0]
    large = bleu_by_length(*_corpus(960), edges=(), resamples=500)[0]
    width = lambda b: b["ci95"][1] - b["ci95"][0]  # noqa: E731
    assert width(large) < width(small) / 2  # about 1/sqrt(16) = 1/4 in theory


def test_the_report_draws_old_and_new_by_length_data(tmp_path):
    """A report with intervals draws bands and states them; an older report without them still draws."""
    from nmt.benchmark.report import _plot_lengths

    sources, hyps, refs = _corpus(200)
    with_ci = bleu_by_length(sources, hyps, refs, resamples=100)
    without = [{k: v for k, v in b.items() if k != "ci95"} for b in with_ci]
    for buckets, name in ((with_ci, "new.png"), (without, "old.png")):
        report = {"models": [{"name": "m", "test": {"bleu_by_length_beam4": buckets}}]}
        _plot_lengths(report, tmp_path / name)
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(json.dumps(with_ci)) == with_ci  # plain JSON values, kept exactly in report.json
