"""Training and inference of text classifiers (:mod:`nmt.classification.classifiers`) on raw strings.

Texts are tokenized in-graph with the project's SentencePiece :class:`~nmt.tokenization.Tokenizer`
(cut to ``head.max_length`` tokens), shuffled every epoch, batched by sentence count and padded
per batch; one ``tf.function`` step with a ``[None, None]`` signature never retraces. The best
weights by validation accuracy (or the last, without validation data) are kept.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from nmt.classification.data import LabelledTexts
from nmt.errors import UserError
from nmt.pipeline import length_sorted_batches


class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup to ``peak`` over ``warmup`` steps, then linear decay to 0 at ``total`` steps
    (BERT's schedule, which the lesson's fine-tuning uses)."""

    def __init__(self, peak: float, warmup: int, total: int):
        self.peak, self.warmup, self.total = peak, warmup, max(total, 1)

    def __call__(self, step):
        step = tf.cast(step, tf.float32) + 1.0  # []
        up = step / max(self.warmup, 1)
        down = tf.maximum(self.total - step, 0.0) / max(self.total - self.warmup, 1)
        return self.peak * tf.minimum(up, down) if self.warmup else self.peak * down

    def get_config(self):
        return {"peak": self.peak, "warmup": self.warmup, "total": self.total}


def make_optimizer(tc, total_steps: int):
    lr = LinearDecay(tc.learning_rate, tc.warmup_steps, total_steps) if tc.schedule == "linear" else tc.learning_rate
    clip = tc.clip_norm if tc.clip_norm > 0 else None
    if tc.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=tc.weight_decay, global_clipnorm=clip)
    return keras.optimizers.Adam(lr, global_clipnorm=clip)


def encode_texts(tokenizer, texts, max_length: int) -> tf.RaggedTensor:
    """Raw strings [N] -> token ids [N,(S)], at most ``max_length`` each (EOS-terminated unless cut)."""
    if not len(texts):
        raise UserError("no texts to classify")
    return tokenizer.encode_source(tf.constant(list(texts)))[:, :max_length]  # [N,(S)]


@dataclass
class ClassifierResult:
    steps: int = 0
    epochs: float = 0.0
    train_seconds: float = 0.0
    examples: int = 0
    best_valid_accuracy: float | None = None
    history: list[dict] = field(default_factory=list)

    @property
    def examples_per_second(self) -> float:
        return self.examples / self.train_seconds if self.train_seconds else 0.0


class ClassifierTrainer:
    """Train ``model`` (``ids [B,S] -> (logits [B,C], weights [B,S])``) on ``train`` texts.

    With ``train.head_epochs`` > 0 only the pooling and output layers train first (encoder frozen,
    Adam at ``head_learning_rate``), then every trainable weight for ``epochs`` with the configured
    optimizer and schedule: the lesson's frozen-then-fine-tuned recipe. ``epochs`` may be fractional;
    ``time_budget`` (seconds, 0 = none) stops earlier. ``on_epoch`` (optional) is called with every
    history record. Batches are shuffled with ``train.seed + epoch``; seed TensorFlow
    (``keras.utils.set_random_seed``) before building the model for reproducible initialisation
    and dropout.
    """

    def __init__(self, model, config, tokenizer, train: LabelledTexts, valid: LabelledTexts | None = None,
                 progress: bool = False, on_epoch=None):
        from nmt.classification.classifiers import head_variables

        config.validate()
        self.model, self.config, self.tokenizer = model, config, tokenizer
        self.train, self.valid, self.progress, self.on_epoch = train, valid, progress, on_epoch
        tc = config.train
        self.steps_per_epoch = math.ceil(len(train) / tc.batch_size)
        main_steps = math.ceil(tc.epochs * self.steps_per_epoch) if tc.epochs else 10**9
        self.phases = []  # (name, variables, optimizer, steps)
        if tc.head_epochs:
            clip = tc.clip_norm if tc.clip_norm > 0 else None
            self.phases.append(("head", head_variables(model),
                                keras.optimizers.Adam(tc.head_learning_rate, global_clipnorm=clip),
                                math.ceil(tc.head_epochs * self.steps_per_epoch)))
        self.phases.append(("all", model.trainable_variables,
                            make_optimizer(tc, main_steps if tc.epochs else 10_000), main_steps))
        self.total_steps = sum(p[3] for p in self.phases)
        self.ids = encode_texts(tokenizer, train.texts, config.head.max_length)  # [N,(S)]
        self.labels = tf.constant(train.labels, tf.int32)  # [N]

    def _make_step(self, variables, optimizer):
        model, smoothing, classes = self.model, self.config.train.label_smoothing, len(self.train.classes)

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32)])
        def step(ids, labels):
            with tf.GradientTape() as tape:
                logits, _ = model(ids, training=True)  # [B,C]
                target = tf.one_hot(labels, classes) * (1 - smoothing) + smoothing / classes  # [B,C]
                loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(target, tf.cast(logits, tf.float32)))
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss

        return step

    def _batches(self, epoch: int):
        order = np.random.default_rng(self.config.train.seed + epoch).permutation(len(self.train))
        size = self.config.train.batch_size
        for start in range(0, len(order), size):
            idx = order[start:start + size]
            yield tf.gather(self.ids, idx).to_tensor(0), tf.gather(self.labels, idx)  # [B,S], [B]

    def _validate(self) -> float | None:
        if self.valid is None or not len(self.valid):
            return None
        probs = predict(self.model, self.tokenizer, self.valid.texts, self.config.head.max_length)
        return float(np.mean(probs.argmax(1) == self.valid.labels))

    def run(self) -> ClassifierResult:
        budget = self.config.train.time_budget
        result = ClassifierResult()
        best_weights, best = None, -1.0
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=self.total_steps if self.config.train.epochs else None, unit="step", desc="training",
                       leave=False)
        epoch, out_of_time = 0, False
        for phase, variables, optimizer, steps in self.phases:
            step_fn, done = self._make_step(variables, optimizer), 0
            while done < steps and not out_of_time:
                started, losses = time.perf_counter(), []
                for ids, labels in self._batches(epoch):
                    losses.append(float(step_fn(ids, labels)))
                    done += 1
                    result.steps += 1
                    result.examples += int(labels.shape[0])
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix(loss=f"{losses[-1]:.3f}")
                    out_of_time = bool(budget) and result.train_seconds + time.perf_counter() - started >= budget
                    if done >= steps or out_of_time:
                        break
                result.train_seconds += time.perf_counter() - started
                epoch += 1
                if not np.all(np.isfinite(losses)):
                    raise UserError(f"the training loss became {losses[-1]} in epoch {epoch}; lower the learning rate")
                record = {"epoch": round(result.steps / self.steps_per_epoch, 3), "phase": phase, "step": result.steps,
                          "train_loss": round(float(np.mean(losses)), 4),
                          "train_seconds": round(result.train_seconds, 1)}
                accuracy = self._validate()
                if accuracy is not None:
                    record["valid_accuracy"] = round(accuracy, 4)
                    if accuracy > best:
                        best, best_weights = accuracy, [w.numpy() for w in self.model.weights]
                result.history.append(record)
                if self.on_epoch:
                    self.on_epoch(record)
        if bar is not None:
            bar.close()
        result.epochs = round(result.steps / self.steps_per_epoch, 3)
        if best_weights is not None:
            for w, value in zip(self.model.weights, best_weights):
                w.assign(value)
            result.best_valid_accuracy = best
        return result


def predict(model, tokenizer, texts, max_length: int, batch_size: int = 128, progress=None) -> np.ndarray:
    """Class probabilities [N,C] of raw ``texts`` (batches of similar length; input order kept)."""
    probs, _ = predict_with_weights(model, tokenizer, texts, max_length, batch_size, progress, keep_weights=False)
    return probs


def predict_with_weights(model, tokenizer, texts, max_length: int, batch_size: int = 128, progress=None,
                         keep_weights: bool = True):
    """(probabilities [N,C], per-text token weights [N][(S)] or None) of raw ``texts``."""
    if batch_size < 1:
        raise UserError(f"batch size must be at least 1, got {batch_size}")
    ids = encode_texts(tokenizer, texts, max_length)  # [N,(S)]
    lengths = ids.row_lengths().numpy()
    probs, weights = None, [None] * len(texts) if keep_weights else None
    for idx in length_sorted_batches(lengths, batch_size):
        logits, w = _infer(model, tf.gather(ids, idx).to_tensor(0))  # [B,C], [B,S]
        p = tf.nn.softmax(tf.cast(logits, tf.float32)).numpy()
        if probs is None:
            probs = np.zeros((len(texts), p.shape[1]), np.float32)
        probs[idx] = p
        if keep_weights:
            w = w.numpy()  # [B,S], once per batch rather than once per text
            for row, i in enumerate(idx):
                weights[i] = w[row, : lengths[i]]
        if progress is not None:
            progress.update(len(idx))
    return probs, weights


_INFER_CACHE: dict[int, object] = {}


def _infer(model, ids):
    """One ``tf.function`` per model for inference (``[None, None]`` signature, traced once)."""
    fn = _INFER_CACHE.get(id(model))
    if fn is None:
        fn = tf.function(lambda x: model(x, training=False), input_signature=[tf.TensorSpec([None, None], tf.int32)])
        _INFER_CACHE.clear()
        _INFER_CACHE[id(model)] = fn
    return fn(ids)
