"""Training: loss, learning-rate schedules, the training loop, validation, checkpoints, resume.

The loop is family-agnostic: it only calls ``model.forward`` and the translator.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import math
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from nmt import data_record, manifest, model_dir as md, steps
from nmt.config import Config
from nmt.errors import UserError
from nmt.evaluation import score
from nmt.guided import check_guidable, guided_loss
from nmt.lock import TrainingLock
from nmt.losses import smoothed_loss
from nmt.models import check_size
from nmt.optimizers import learning_rate, make_optimizer
from nmt.pipeline import encode_pairs, eval_batches, make_dataset
from nmt.progress import TrainingBar, clock
from nmt.tokenization import Tokenizer
from nmt.translator import Translator

log = logging.getLogger("nmt.train")


def _build_in_precision(config: Config, tokenizer: Tokenizer):
    """The model built under ``config.train.mixed_precision`` (Keras' global policy is restored after:
    layers keep the policy they were built with, and nothing else in the process should inherit it)."""
    previous = keras.mixed_precision.global_policy()
    steps.set_precision(config.train.mixed_precision)
    try:
        return md.build(config, tokenizer)
    finally:
        keras.mixed_precision.set_global_policy(previous)


#: The fields a resume may change: when to stop. Anything else would not continue the same training.
RESUME_LIMITS = ("max_steps", "epochs", "time_budget", "target_bleu", "patience")
RESUME_FREE = RESUME_LIMITS + ("parallel_parts",)  # how to stop, and how to use the cores: not the updates


def resumed_config(saved: Config, given: Config | None, directory) -> Config:
    """The configuration a resume continues with: the saved one, with ``given``'s stopping limits
    (``--steps``, ``--epochs``, ``--time-budget``, ``--target-bleu``, ``--patience``). Any other field
    that differs is refused with one line naming it, rather than ignored."""
    if given is None:
        return saved
    # The cosine schedule ends at max_steps: there the step budget shapes every update, not only the stop.
    free = tuple(n for n in RESUME_FREE if not (n == "max_steps" and saved.train.schedule == "cosine"))
    differ = [f"{section}.{name} ({getattr(getattr(saved, section), name)!r} -> {value!r})"
              for section, values in given.to_dict().items() for name, value in values.items()
              if value != getattr(getattr(saved, section), name) and not (section == "train" and name in free)]
    if differ:
        raise UserError(f"{directory} was trained with other settings: {'; '.join(differ[:3])}"
                        f"{'; ...' if len(differ) > 3 else ''}. --resume continues the saved configuration and "
                        "may change only --steps (not with the cosine schedule), --epochs, --time-budget, "
                        "--target-bleu, --patience and --parallel-parts; train a new --model-dir otherwise")
    return saved.override("train", **{name: getattr(given.train, name) for name in free})


def _worker_copy(directory: Path, resume: bool) -> Path:
    """A private folder for a non-chief worker's writes (every worker must save checkpoints under
    MultiWorkerMirroredStrategy, but only the chief's are kept); it starts from the chief's on resume."""
    copy = Path(tempfile.mkdtemp(prefix="nmt-worker-"))
    atexit.register(shutil.rmtree, copy, ignore_errors=True)
    if resume:
        shutil.copytree(directory, copy, dirs_exist_ok=True)
    return copy


def checkpoint(model, optimizer, rng: bool = True, **state) -> tf.train.Checkpoint:
    """The layout of every checkpoint ``nmt train`` writes (and ``nmt average`` reads).

    Keras 3 layers kept in Python lists reach a checkpoint only through the optimizer's list of
    trainable variables, so the optimizer is always part of it. ``rng``: the dropout layers'
    seed-generator states (not trainable, so that list misses them), which a resumed run needs to draw
    the masks the uninterrupted run would have; checkpoints from before they were saved lack them."""
    extra = {"rng": list(model.non_trainable_variables)} if rng else {}
    return tf.train.Checkpoint(model=model, optimizer=optimizer, **extra, **state)


@dataclass
class TrainResult:
    steps: int
    train_seconds: float
    target_tokens: int
    best_bleu: float
    history: list = field(default_factory=list)

    @property
    def tokens_per_second(self) -> float:
        return self.target_tokens / max(self.train_seconds, 1e-9)


class Trainer:
    """Trains ``config`` into ``directory``; ``resume=True`` continues from the last checkpoint."""

    def __init__(self, config: Config, directory, train_pairs: Sequence, valid_pairs: Sequence,
                 resume: bool = False, progress: bool = True, tokenizer: Tokenizer | None = None,
                 strategy: str | None = None, data: dict | None = None, train_links: Sequence[str] | None = None):
        # First: the threads and MultiWorkerMirroredStrategy's collectives are set before TensorFlow runs any op.
        parts = config.train.parallel_parts
        if not steps.set_threads(parts) and parts > 1:
            log.warning("--parallel-parts %d runs without its speed-up: TensorFlow had started with its threads; "
                        "start the process with TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=%d", parts, parts)
        self.strategy = steps.make_strategy(strategy)
        self.dir = Path(directory)
        self.progress = progress
        self.lock = TrainingLock(self.dir)
        if steps.is_chief(self.strategy):
            self.lock.acquire()  # before anything is read or written: one training per directory
        try:
            self._setup(config, train_pairs, valid_pairs, resume, tokenizer, data, train_links)
        except BaseException:
            self.lock.release(remove_empty_directory=True)
            raise

    def _setup(self, config, train_pairs, valid_pairs, resume, tokenizer, data, train_links):
        resuming = resume and md.is_model_dir(self.dir)
        # Seed first: an eager tf.random.set_seed later would drop the tokenizer's resources.
        keras.utils.set_random_seed(Config.load(self.dir / md.CONFIG).train.seed if resuming else config.train.seed)
        if resume:
            if not md.is_model_dir(self.dir):
                raise UserError(f"cannot resume: {self.dir} is not a model directory; "
                                "drop --resume to start a new training")
            saved = Config.load(self.dir / md.CONFIG)
            config = resumed_config(saved, config, self.dir)
        else:
            if md.is_model_dir(self.dir):
                raise UserError(f"{self.dir} already holds a model; use --resume to continue it or choose "
                                "another --model-dir")
            if not (config.train.max_steps or config.train.epochs or config.train.time_budget):
                raise UserError("training has no end: give --steps, --epochs or --time-budget")
        learning_rate(config.train)  # a schedule its limits cannot run fails before the tokenizer trains
        vocab = config.tokenizer.vocab_size  # an upper bound of the trained vocabularies
        check_size(config.model, vocab, vocab, config.train.batch_tokens)  # before the tokenizer trains
        if resume:
            tokenizer = Tokenizer.load(self.dir)
        else:
            tokenizer = tokenizer or Tokenizer.from_config(train_pairs, config.tokenizer)
        self.config, self.tokenizer = config, tokenizer
        tc = config.train
        self.guided = train_links is not None and tc.guided_weight > 0
        self.train_data = encode_pairs(train_pairs, tokenizer, tc.max_tokens, "train",
                                       links=train_links if self.guided else None)
        if int(self.train_data.src.nrows()) == 0:
            raise UserError("no training pairs left after filtering; check the corpus and --max-tokens")
        self.valid_pairs = list(valid_pairs)
        self.valid_data = (encode_pairs(self.valid_pairs, tokenizer, tc.max_tokens, "valid")
                           if self.valid_pairs else None)
        # Validation loss batches, packed once (the validation set never changes).
        self.valid_batches = eval_batches(self.valid_data, tc.batch_tokens) if self.valid_data is not None else []
        with self.strategy.scope() if self.strategy else contextlib.nullcontext():
            self.model = _build_in_precision(config, tokenizer)
            self.optimizer = make_optimizer(tc)
            self.optimizer.build(self.model.trainable_variables)
        if self.guided:  # before the model directory is made: a wrong layer or head leaves nothing behind
            check_guidable(self.model, tc.guided_layer, tc.guided_head, tc.guided_full_context)
        if not steps.is_chief(self.strategy):  # another worker writes the model directory; this one a copy
            self.dir = _worker_copy(self.dir, resume)
        elif not resume:  # only now: a mistake above leaves no half-made model directory behind
            self.dir.mkdir(parents=True, exist_ok=True)
            written = tokenizer.save(self.dir)
            config.save(self.dir / md.CONFIG)
            recorded = [data_record.write(self.dir, data)] if data is not None else []  # what --resume reuses
            manifest.record(self.dir, [md.CONFIG] + [p.name for p in written] + recorded)
        elif config != saved:  # a resume with new stopping limits: the next resume knows them
            config.save(self.dir / md.CONFIG)
            manifest.record(self.dir, [md.CONFIG])
        self.best_bleu = tf.Variable(-1.0, trainable=False, dtype=tf.float32)
        self.bad_evals = tf.Variable(0, trainable=False, dtype=tf.int64)
        self.tokens_seen = tf.Variable(0, trainable=False, dtype=tf.int64)
        # Training seconds so far, across resumes: the clock of metrics.jsonl and of --time-budget.
        self.seconds_trained = tf.Variable(0.0, trainable=False, dtype=tf.float64)
        self.ckpt = checkpoint(self.model, self.optimizer, **self._state())
        self.manager = tf.train.CheckpointManager(self.ckpt, self.dir / md.CHECKPOINTS, max_to_keep=tc.keep_checkpoints)
        if resume and self.manager.latest_checkpoint is None:  # stopped before its first checkpoint
            log.info("%s has no checkpoint yet: starting at step 0 with its saved configuration and tokenizer",
                     self.dir)
        elif resume:
            prefix = self._restore_newest_readable()
            log.info("resumed from %s at step %d", prefix, self.step)
        self.updater = steps.Updater(self.model, self.optimizer, partial(self._loss, training=True), self.strategy,
                                     tc.accumulate, tc.parallel_parts)
        self._eval_step = tf.function(steps.split_loss(self._loss, tc.parallel_parts),
                                      input_signature=self._signature(), reduce_retracing=True,
                                      autograph=steps.AUTOGRAPH)
        self._translator = None

    def _restore_newest_readable(self) -> str:
        """Restore the newest checkpoint that reads completely: a damaged one (a disk that filled up, a
        copy cut short) is skipped with a warning, and the run resumes exactly from the one before."""
        latest = self.manager.latest_checkpoint  # the state file's newest (its list may lack older ones' times)
        for prefix in [latest] + [p for p in reversed(self.manager.checkpoints) if p != latest]:
            try:
                self._restore(prefix)
                return prefix
            except md.DAMAGED_CHECKPOINT as exc:
                reason = " ".join(str(exc).split())[:120]
                log.warning("%s is damaged (%s); trying the checkpoint before it", prefix, reason)
        raise UserError(f"every checkpoint in {self.dir / md.CHECKPOINTS} is damaged; restore the folder from a copy "
                        "or train a new --model-dir")

    def _state(self) -> dict:
        return {"best_bleu": self.best_bleu, "bad_evals": self.bad_evals, "tokens_seen": self.tokens_seen,
                "train_seconds": self.seconds_trained}

    def _restore(self, prefix: str) -> None:
        """Restore what ``prefix`` holds; a checkpoint from an older nmt lacks parts added since (the
        dropout RNG state, the training seconds), and each part it has is restored all the same."""
        held = {name.split("/")[0] for name, _ in tf.train.list_variables(prefix)}
        state = {k: v for k, v in self._state().items() if k in held}
        parts = checkpoint(self.model, self.optimizer, rng="rng" in held, **state)
        parts.restore(prefix).assert_existing_objects_matched()
        self.ckpt.save_counter.assign(parts.save_counter.read_value())  # restored with the parts, not into self.ckpt
        if "rng" not in held:
            log.info("%s predates saved dropout RNG state: the resumed run draws different dropout masks", prefix)
        if "train_seconds" not in held:  # metrics.jsonl has the clock at its validations
            lines = [m for m in md.read_metrics(self.dir) if m.get("step", 0) <= self.step and "train_seconds" in m]
            self.seconds_trained.assign(float(lines[-1]["train_seconds"]) if lines else 0.0)

    @property
    def step(self) -> int:
        return int(self.optimizer.iterations.numpy())

    @staticmethod
    def _signature():
        spec = tf.TensorSpec([None, None], tf.int32)
        return [spec, spec, spec]

    def _loss(self, src, tgt_in, tgt_out, guide=None, training=False):
        """(summed loss, target tokens); with a guided-alignment target ``guide`` [B,T,S], plus
        ``guided_weight`` times the chosen head's cross-entropy against it, summed over linked rows."""
        tc = self.config.train
        full_context = guide is not None and tc.guided_full_context
        encoded = self.model.encode(src, training=training) if full_context else None  # one encoding, two passes
        logits, weights = self.model.forward(src, tgt_in, training=training, encoded=encoded)  # [B,T,V], [B,L,H,T,S]
        total, tokens = smoothed_loss(logits, tgt_out, tc.label_smoothing if training else 0.0)
        if guide is not None:
            if full_context:  # the guided head's own pass, seeing the whole target sentence
                weights = self.model.forward_full_context(src, tgt_in, training=training, encoded=encoded)
            guided, _ = guided_loss(weights, guide, tc.guided_layer, tc.guided_head, tc.guided_shift)
            total = total + tf.cast(tc.guided_weight, total.dtype) * tf.cast(guided, total.dtype)
        return total, tokens

    # ----- validation -------------------------------------------------------------------------
    def validate(self) -> dict:
        if self.valid_data is None:
            return {}
        total = tokens = 0.0
        for src, tgt_in, tgt_out in self.valid_batches:
            t, n = self._eval_step(src, tgt_in, tgt_out)
            total, tokens = total + float(t), tokens + float(n)
        pairs = self.valid_pairs[: self.config.train.eval_sentences]
        if self._translator is None:  # one Translator for the run: its greedy search is traced once, not per validation
            self._translator = Translator(self.model, self.tokenizer, self.config.decode)
        hyps = self._translator.translate([s for s, _ in pairs], beam_size=1)
        scores = score([h.text for h in hyps], [t for _, t in pairs], force=True)  # a training signal: no advice
        return {"valid_loss": round(total / max(tokens, 1.0), 4), "valid_bleu": scores.bleu, "valid_chrf": scores.chrf}

    def _record(self, metrics: dict, writer) -> None:
        with open(self.dir / md.METRICS, "a", encoding="utf-8") as f:
            f.write(json.dumps(metrics) + "\n")
        with writer.as_default(step=metrics["step"]):
            for k, v in metrics.items():
                if isinstance(v, (int, float)) and k != "step":
                    tf.summary.scalar(k, v)
        writer.flush()

    def _evaluate_and_save(self, writer, train_loss, tokens_per_s, train_seconds) -> bool:
        """Validate, checkpoint, keep the best weights. Returns True when the run should stop here
        (``--patience`` validations without a gain, or the validation BLEU reached ``--target-bleu``)."""
        self.seconds_trained.assign(train_seconds)  # saved with the checkpoint below
        metrics = {"step": self.step, "train_loss": round(train_loss, 4), "tokens_per_second": round(tokens_per_s, 1),
                   "train_seconds": round(train_seconds, 1)}
        metrics.update(self.validate())
        bleu = metrics.get("valid_bleu", 0.0)
        if bleu > float(self.best_bleu.numpy()) or not (self.dir / md.WEIGHTS).exists():
            self.best_bleu.assign(bleu)
            self.bad_evals.assign(0)
            tmp = self.dir / ("tmp." + md.WEIGHTS)
            self.model.save_weights(str(tmp))
            manifest.accept(self.dir, md.WEIGHTS, tmp)  # a kill between these three lines leaves a valid directory
            tmp.replace(self.dir / md.WEIGHTS)
            manifest.settle(self.dir, md.WEIGHTS)
            metrics["best"] = True
        else:
            self.bad_evals.assign_add(1)
        self.manager.save(checkpoint_number=self.step)
        self._record(metrics, writer)
        facts = [f"{metrics[k]:.2f}" if k in metrics else None for k in ("valid_bleu", "valid_loss", "train_loss")]
        log.info("step %d (%s of training): valid BLEU %s, valid loss %s, train loss %s%s", self.step,
                 clock(train_seconds), *facts, ", best so far, saved" if metrics.get("best") else "")
        patience, target = self.config.train.patience, self.config.train.target_bleu
        if target and "valid_bleu" in metrics and bleu >= target:
            log.info("validation BLEU %.2f reached the target %g: stopping", bleu, target)
            return True
        if patience and int(self.bad_evals.numpy()) >= patience:
            log.info("early stopping: no BLEU improvement in %d validations", patience)
            return True
        return False

    # ----- loop -------------------------------------------------------------------------------
    def run(self) -> TrainResult:
        """Train to the end (steps, epochs, time budget or early stopping); releases the directory's lock."""
        try:
            return self._run()
        finally:
            self.lock.release()

    def _run(self) -> TrainResult:
        tc = self.config.train
        steps_per_epoch = None
        if tc.epochs:  # updates per epoch: batches / batches per update
            batches = sum(1 for _ in make_dataset(self.train_data, tc.batch_tokens, tc.max_tokens, shuffle=False))
            steps_per_epoch = batches / tc.accumulate
        limit = [x for x in (tc.max_steps, math.ceil(tc.epochs * steps_per_epoch) if steps_per_epoch else 0) if x]
        max_steps = min(limit) if limit else None
        if max_steps is None and not tc.time_budget:
            raise UserError("training has no end: give --steps, --epochs or --time-budget")
        # One seeded stream for the whole run; a resumed run skips the batches already trained on, so it
        # sees exactly the batches the uninterrupted run would have seen next.
        ds = make_dataset(self.train_data, tc.batch_tokens, tc.max_tokens, shuffle=True, seed=tc.seed, repeat=True)
        ds = ds.skip(self.step * tc.accumulate * (self.strategy.num_replicas_in_sync if self.strategy else 1))
        ds = self.updater.distribute(ds)
        writer = tf.summary.create_file_writer(str(self.dir / "logs"))
        # The bar counts what the run stops on: validation BLEU towards --target-bleu, else steps, else seconds.
        if tc.target_bleu and self.valid_data is not None:
            bar = TrainingBar("bleu", tc.target_bleu, max(0.0, float(self.best_bleu.numpy())), self.progress)
        elif max_steps is not None:
            bar = TrainingBar("steps", max_steps, self.step, self.progress)
        else:
            bar = TrainingBar("time", tc.time_budget, self._seconds(), self.progress)
        stop = self.step >= (max_steps or float("inf")) or bool(tc.time_budget) and self._seconds() >= tc.time_budget
        with self._logging_beside(bar):
            seconds, tokens, losses, history = self._loop(iter(ds), bar, writer, max_steps, stop)
        bar.close()
        if not (self.dir / md.WEIGHTS).exists():
            self._evaluate_and_save(writer, float(np.mean(losses)) if losses else float("nan"), 0.0, seconds)
        return TrainResult(self.step, seconds, tokens, float(self.best_bleu.numpy()), history)

    def _seconds(self) -> float:
        return float(self.seconds_trained.numpy())

    def _logging_beside(self, bar):
        """Log lines printed above the progress bar instead of through it."""
        if not self.progress:
            return contextlib.nullcontext()
        from tqdm.contrib.logging import logging_redirect_tqdm

        return logging_redirect_tqdm()

    def _loop(self, it, bar, writer, max_steps, stop) -> tuple:
        """Updates and validations until a limit; returns (training seconds and target tokens of the whole
        run, resumes included; losses; history)."""
        tc = self.config.train
        train_seconds, tokens, losses, history = self._seconds(), int(self.tokens_seen.numpy()), [], []
        window_tokens, window_time = 0, 0.0
        while not stop:
            batches = [next(it) for _ in range(tc.accumulate)]
            start = time.perf_counter()
            loss, n = self.updater.update(batches)
            loss = float(loss)  # waits for the step to finish
            elapsed = time.perf_counter() - start
            if not math.isfinite(loss):
                raise UserError(f"training diverged at step {self.step} (loss {loss}); "
                                "lower --lr or raise --clip-norm; the last good checkpoint is kept")
            train_seconds += elapsed
            tokens += int(n)
            window_tokens, window_time = window_tokens + int(n), window_time + elapsed
            losses.append(loss)
            self.tokens_seen.assign_add(int(n))
            bar.step_done(elapsed)
            if self.step % 10 == 0:
                bar.show(step=self.step, loss=f"{np.mean(losses[-50:]):.3f}",
                         tok_s=f"{window_tokens / max(window_time, 1e-9):,.0f}")
                window_tokens, window_time = 0, 0.0
            out_of_time = bool(tc.time_budget) and train_seconds >= tc.time_budget
            at_end = max_steps is not None and self.step >= max_steps
            if self.step % tc.eval_every == 0 or out_of_time or at_end:
                early = self._evaluate_and_save(writer, float(np.mean(losses[-tc.eval_every:])),
                                                tokens / max(train_seconds, 1e-9), train_seconds)
                history.append(md.read_metrics(self.dir)[-1])
                bar.validated(history[-1].get("valid_bleu"))
                stop = early or out_of_time or at_end
        return train_seconds, tokens, losses, history
