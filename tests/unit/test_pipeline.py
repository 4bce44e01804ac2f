"""Validation batches: every pair exactly once, packed under the token budget, BOS/EOS in place; the
training stream ends without waiting for tf.data's autotuner."""

import numpy as np
import pytest
import tensorflow as tf

from nmt.pipeline import Encoded, eval_batches, make_dataset
from nmt.tokenization import BOS_ID, EOS_ID


def _data(seed, n=300):
    rng = np.random.default_rng(seed)
    src = [list(rng.integers(4, 50, rng.integers(1, 30))) + [EOS_ID] for _ in range(n)]
    tgt = [list(rng.integers(4, 50, rng.integers(1, 30))) for _ in range(n)]
    return Encoded(tf.ragged.constant(src, tf.int32), tf.ragged.constant(tgt, tf.int32), 0), src, tgt


@pytest.mark.parametrize("seed, budget", [(0, 256), (1, 1536), (2, 40)])
def test_every_pair_once_under_the_budget(seed, budget):
    data, src, tgt = _data(seed)
    seen = []
    for s, ti, to in eval_batches(data, budget):
        assert s.shape[0] == ti.shape[0] == to.shape[0] and ti.shape[1] == to.shape[1]
        # one over-long pair may stand alone
        assert s.shape[0] == 1 or s.shape[0] * max(s.shape[1], ti.shape[1]) <= budget
        for row_s, row_i, row_o in zip(s.numpy(), ti.numpy(), to.numpy()):
            body = [int(x) for x in row_o if x]
            assert body[-1] == EOS_ID and [int(x) for x in row_i if x] == [BOS_ID] + body[:-1]
            seen.append((tuple(int(x) for x in row_s if x), tuple(body[:-1])))
    assert sorted(seen) == sorted((tuple(int(x) for x in a), tuple(int(x) for x in b)) for a, b in zip(src, tgt))


def test_few_batches_for_a_small_set():
    data, _, _ = _data(3, n=400)
    longest = 31  # at most 30 pieces + EOS, or BOS + 30 pieces
    assert len(eval_batches(data, 1536)) <= int(np.ceil(400 * longest / 1536)) + 2


def test_training_stream_does_not_autotune():
    # Deleting an iterator waits for the autotuner thread's next round, up to a minute apart: 20-60 s at
    # the end of every demo on a busy core (gdb: ~RootDataset::Iterator waiting in Model::OptimizeLoop).
    data, _, _ = _data(4)
    ds = make_dataset(data, 256, 64, shuffle=True, repeat=True)
    assert ds.options().autotune.enabled is False
    it = iter(ds)
    assert next(it)[0].shape[0] >= 1
