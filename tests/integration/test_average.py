"""nmt average: the mean of the last N checkpoints, as a model directory that translates."""

import json

import numpy as np
import pytest

from tests.integration.test_cli import run, write_corpus


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("average")
    write_corpus(folder)
    code, _, err = run(["train", "--model-dir", str(folder / "m"), "--train-src", str(folder / "train.src"),
                        "--train-tgt", str(folder / "train.tgt"), "--valid-src", str(folder / "train.src"),
                        "--valid-tgt", str(folder / "train.tgt"), "--preset", "tiny", "--vocab-size", "30",
                        "--model", "transformer", "--layers", "1", "--steps", "90", "--eval-every", "30",
                        "--keep-checkpoints", "3", "--lr", "0.003", "--no-progress"])
    assert code == 0, err
    return folder


def test_checkpoints_read_completely(trained):
    """The checkpoint at the best validation equals model.weights.h5 in every weight (a reader that
    missed the layers the Trainer tracks only through its optimizer would fail here)."""
    from nmt import model_dir as md
    from nmt.averaging import checkpoints, read_weights
    from nmt.tokenization import Tokenizer

    config, _, model = md.load(trained / "m")
    best = [m["step"] for m in md.read_metrics(trained / "m") if m.get("best")][-1]
    saved = [w.numpy() for w in model.weights]
    prefix = dict(checkpoints(trained / "m"))[best]
    other = max(s for s, _ in checkpoints(trained / "m") if s != best)
    fresh = md.build(config, Tokenizer.load(trained / "m"))
    for a, b in zip(read_weights(fresh, config, prefix), saved):
        np.testing.assert_array_equal(a, b)
    different = read_weights(fresh, config, dict(checkpoints(trained / "m"))[other])
    assert sum(not np.array_equal(a, b) for a, b in zip(different, saved)) == len(saved)  # every weight trained


@pytest.mark.parametrize("damage", ["cut 1%", "cut 50%", "cut 99%", "garble index", "empty index", "no data"])
def test_a_damaged_checkpoint_is_a_user_error_however_it_is_damaged(trained, tmp_path, damage):
    """Every reader of checkpoints (nmt average, scripts/bench_curve, --resume) names a damaged one in one
    line, whichever way the files were damaged (a full disk, a copy cut short, a garbled index)."""
    import shutil

    from nmt import model_dir as md
    from nmt.averaging import checkpoints, read_weights
    from nmt.errors import UserError
    from nmt.tokenization import Tokenizer

    step, prefix = checkpoints(trained / "m")[-1]
    copy = tmp_path / "ckpt"
    copy.mkdir()
    for f in (trained / "m" / md.CHECKPOINTS).glob(f"ckpt-{step}.*"):
        shutil.copy(f, copy / f.name)
    data, index = sorted(copy.glob("*.data-*"))[0], copy / f"ckpt-{step}.index"
    if damage.startswith("cut"):
        raw = data.read_bytes()
        data.write_bytes(raw[:len(raw) * int(damage[4:-1]) // 100])
    elif damage == "garble index":
        raw = bytearray(index.read_bytes())
        raw[len(raw) // 3: len(raw) // 3 + 64] = bytes(64)
        index.write_bytes(bytes(raw))
    elif damage == "empty index":
        index.write_bytes(b"")
    else:
        data.unlink()
    config, _, _ = md.load(trained / "m")
    with pytest.raises(UserError, match="cannot read checkpoint"):
        read_weights(md.build(config, Tokenizer.load(trained / "m")), config, str(copy / f"ckpt-{step}"))


def test_average_is_the_mean_and_translates(trained):
    from nmt import model_dir as md
    from nmt.averaging import checkpoints, read_weights
    from nmt.tokenization import Tokenizer

    code, out, err = run(["average", str(trained / "m"), str(trained / "avg"), "--last", "2"])
    assert code == 0, err
    summary = json.loads(out)
    assert summary["steps"] == [60, 90]
    config, _, averaged = md.load(trained / "avg")
    kept = dict(checkpoints(trained / "m"))
    fresh = md.build(config, Tokenizer.load(trained / "m"))
    a, b = read_weights(fresh, config, kept[60]), read_weights(fresh, config, kept[90])
    for x, y, w in zip(a, b, averaged.weights):
        # a float32 mean of two float32 numbers rounds once (6e-8 relative) against the float64 mean
        np.testing.assert_allclose(w.numpy(), (x.astype(np.float64) + y) / 2, rtol=1e-6, atol=1e-7)
    (trained / "in.txt").write_text("ab cd\nef gh ij\n")
    code, out, err = run(["translate", str(trained / "avg"), "-i", str(trained / "in.txt")])
    assert code == 0 and len(out.splitlines()) == 2, err


def test_average_of_chosen_steps(trained):
    """--steps averages exactly the checkpoints named (in any order, repeats ignored); one step writes that
    checkpoint alone as a model directory: the run as it was at that step."""
    from nmt import model_dir as md
    from nmt.averaging import checkpoints, read_weights
    from nmt.tokenization import Tokenizer

    code, out, err = run(["average", str(trained / "m"), str(trained / "at30"), "--steps", "30"])
    assert code == 0 and json.loads(out)["steps"] == [30], err
    code, out, err = run(["average", str(trained / "m"), str(trained / "ends"), "--steps", "90,30,90"])
    assert code == 0 and json.loads(out)["steps"] == [30, 90], err
    config, _, at30 = md.load(trained / "at30")
    _, _, ends = md.load(trained / "ends")
    kept = dict(checkpoints(trained / "m"))
    fresh = md.build(config, Tokenizer.load(trained / "m"))
    first, last = read_weights(fresh, config, kept[30]), read_weights(fresh, config, kept[90])
    for x, y, w, v in zip(first, last, at30.weights, ends.weights):
        np.testing.assert_array_equal(w.numpy(), x)  # one checkpoint: its weights, unchanged
        np.testing.assert_allclose(v.numpy(), (x.astype(np.float64) + y) / 2, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("args, message", [
    (["--last", "4"], "keeps 3 checkpoints (steps: 30, 60, 90), fewer than --last 4"),
    (["--last", "0"], "--last must be at least 1"),
    (["--steps", "60,45"], "keeps no checkpoint of step 45 (it keeps steps: 30, 60, 90)"),
    (["--steps", "sixty"], "--steps takes training steps separated by commas"),
    (["--steps", ","], "--steps needs at least one training step"),
])
def test_average_mistakes(trained, args, message):
    code, _, err = run(["average", str(trained / "m"), str(trained / "bad"), *args])
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (trained / "bad").exists()


def test_average_refuses_to_replace_its_input(trained):
    code, _, err = run(["average", str(trained / "m"), str(trained / "m"), "--overwrite"])
    assert code == 2 and "would replace input" in err, err
    assert (trained / "m" / "checkpoints").is_dir()
