"""One optimizer update: on one device or replicated with tf.distribute, from one batch or from
several accumulated, in float32 or mixed precision.

The loss of a batch is a sum over its target tokens (``loss_fn(src, tgt_in, tgt_out) -> (total,
tokens)``); an update applies the gradient of ``sum(total) / sum(tokens)`` over everything it saw, so

* **replicas** (``--strategy mirrored|multiworker``): each replica takes a whole batch; each returns
  the gradient of its own token sum, the sums are added across replicas and divided by the global
  token count, and the optimizer applies them once. Clipping sees the global gradient, exactly as on
  one device (Keras' own replica-context path would clip each replica's part before adding them up).
  R replicas therefore make the same updates as ``--accumulate R`` on one device, R times faster;
* **accumulation** (``--accumulate N``): N batches' gradient sums are added before one update, the
  same update as one batch N times as large (the step counter counts updates);
* **mixed precision** (``--mixed-precision float16|bfloat16``): the layers compute in the 16-bit type
  and keep float32 weights (Keras' mixed policies); float16 scales the loss with
  ``keras.optimizers.LossScaleOptimizer`` (skipping updates whose gradients overflow), bfloat16 needs no scaling.

One device with neither keeps the plain fused step (loss / tokens, gradient, apply), which the
throughput benchmarks measure.

* **parallel parts** (``--parallel-parts P``): each batch is cut into P consecutive slices of its
  sentences whose losses are traced side by side in the one step, so their forward and backward
  passes share no op until the gradients are added; with TensorFlow's threads set to P single-threaded
  workers (:func:`set_threads`) the parts run concurrently, which keeps two cores busier than one
  intra-op pool splitting each small matmul in two. The update is the same (sum of the parts' losses /
  sum of their tokens), to float32 rounding.
"""

from __future__ import annotations

import json
import os

import keras
import tensorflow as tf

from nmt.errors import UserError

STRATEGIES = ("none", "mirrored", "multiworker")
# The step functions are traced with autograph=False: the models and losses branch in Python on their
# configuration only (loops over time are explicit tf.while_loop / Keras RNN ops), so autograph's
# source-to-source conversion adds nothing but its cost, a third of the first step's trace.
AUTOGRAPH = False
PRECISIONS = {"float32": "float32", "float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}


def set_precision(name: str) -> None:
    """Set Keras' global dtype policy before a model is built: float32, or mixed float16/bfloat16."""
    if name not in PRECISIONS:
        raise UserError(f"unknown precision {name!r} for --mixed-precision; choose float16 or bfloat16 (or float32)")
    keras.mixed_precision.set_global_policy(PRECISIONS[name])


def make_strategy(name: str | None) -> tf.distribute.Strategy | None:
    """``none``: None (one device, no tf.distribute); ``mirrored``: every GPU, or every logical CPU device when
    there is no GPU; ``multiworker``: MultiWorkerMirroredStrategy configured by ``TF_CONFIG``."""
    name = name or "none"
    if name == "none":
        return None
    if name == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU")] or \
                  [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multiworker":
        if "TF_CONFIG" in os.environ:
            try:
                json.loads(os.environ["TF_CONFIG"])["cluster"]["worker"]
            except (ValueError, KeyError, TypeError):
                raise UserError('TF_CONFIG must be JSON like {"cluster": {"worker": ["host1:port", ...]}, '
                                '"task": {"type": "worker", "index": 0}}') from None
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise UserError(f"unknown strategy {name!r} for --strategy; choose one of: {', '.join(STRATEGIES)}")


def is_chief(strategy: tf.distribute.Strategy | None) -> bool:
    """True on the worker that writes the model directory (worker 0, or the chief of a cluster)."""
    if strategy is None:
        return True
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def set_threads(parts: int) -> bool:
    """For ``parts`` > 1: TensorFlow runs ops on ``parts`` inter-op threads, each op on one thread, so
    the parts of a batch each keep one core busy. Takes effect only before TensorFlow's first op in
    this process (``TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=P`` in the environment does the
    same at any time); returns whether the threads are so set."""
    threading = tf.config.threading
    if parts > 1:
        try:
            threading.set_intra_op_parallelism_threads(1)
            threading.set_inter_op_parallelism_threads(parts)
        except RuntimeError:  # the runtime is already running with its threads
            pass
    return threading.get_intra_op_parallelism_threads() == 1 or os.environ.get("TF_NUM_INTRAOP_THREADS") == "1"


def default_streams() -> int:
    """Batches to translate at once when a command is not told: one per CPU core this process may use,
    or 1 when TensorFlow sees a GPU. Looks at devices without starting TensorFlow's runtime."""
    if tf.config.list_physical_devices("GPU"):
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def split_loss(loss_fn, parts: int):
    """``loss_fn`` over ``parts`` consecutive slices of a batch's sentences, summed: the same (total,
    tokens) as one call on the whole batch, but traced as ``parts`` independent subgraphs. A batch of
    fewer sentences than parts leaves some slices empty; they add nothing."""
    if parts == 1:
        return loss_fn

    def summed(*batch):
        size = tf.shape(batch[0])[0]
        total = tokens = None
        for i in range(parts):
            lo, hi = size * i // parts, size * (i + 1) // parts
            t, n = loss_fn(*[x[lo:hi] for x in batch])
            total, tokens = (t, n) if total is None else (total + t, tokens + n)
        return total, tokens

    return summed


def _dense(grad):
    return tf.convert_to_tensor(grad) if isinstance(grad, tf.IndexedSlices) else grad


class Updater:
    """``update(batches) -> (loss per token, tokens)``: one optimizer update from ``batches`` (a list of
    ``accumulate`` items of the dataset returned by :meth:`distribute`)."""

    def __init__(self, model, optimizer, loss_fn, strategy: tf.distribute.Strategy | None = None, accumulate: int = 1,
                 parts: int = 1):
        if accumulate < 1:
            raise UserError(f"--accumulate must be at least 1, got {accumulate}")
        if parts < 1:
            raise UserError(f"--parallel-parts must be at least 1, got {parts}")
        if strategy is not None and hasattr(optimizer, "inner_optimizer"):
            raise UserError("--mixed-precision float16 (loss scaling) is not supported with --strategy yet; "
                            "use bfloat16")
        self.model, self.optimizer, self.loss_fn = model, optimizer, split_loss(loss_fn, parts)
        self.replicated = strategy is not None
        self.strategy, self.accumulate = strategy or tf.distribute.get_strategy(), accumulate
        self.plain = not self.replicated and accumulate == 1
        self._step = self._grads = self._apply = None

    def distribute(self, dataset: tf.data.Dataset):
        """The batches dealt out to the replicas: each replica takes whole batches in turn, so with R
        replicas one update sees R consecutive batches, as ``--accumulate R`` on one device does (every
        worker builds the same seeded pipeline and keeps its share; no batch is split, so no replica
        ever gets an empty one)."""
        if not self.replicated:
            return dataset
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF

        def per_worker(context):  # one input pipeline per worker; its replicas take its batches in turn
            return dataset.shard(context.num_input_pipelines, context.input_pipeline_id).with_options(options)

        return self.strategy.distribute_datasets_from_function(per_worker)

    def update(self, batches) -> tuple[tf.Tensor, tf.Tensor]:
        if len(batches) != self.accumulate:
            raise ValueError(f"expected {self.accumulate} batches, got {len(batches)}")
        if self.plain:
            return self._plain_step(*batches[0])
        grads, total, tokens = None, 0.0, 0.0
        for batch in batches:
            g, t, n = self._grad_sums(batch)
            grads = g if grads is None else [a + b for a, b in zip(grads, g)]
            total, tokens = total + t, tokens + n
        self._apply_update(grads, tokens)
        return total / tokens, tokens

    # ----- one device, one batch: the fused step -----------------------------------------------
    def _plain_step(self, *batch):
        """``batch``: (src, tgt_in, tgt_out) and whatever else the loss takes (a guided-alignment target)."""
        if self._step is None:
            model, optimizer = self.model, self.optimizer
            specs = [tf.TensorSpec([None] * len(t.shape), t.dtype) for t in batch]  # any batch and length

            @tf.function(input_signature=specs, autograph=AUTOGRAPH)
            def step(*batch):
                with tf.GradientTape() as tape:
                    total, tokens = self.loss_fn(*batch)
                    loss = total / tokens
                    scaled = optimizer.scale_loss(loss)  # the loss itself unless float16 loss scaling
                grads = tape.gradient(scaled, model.trainable_variables)
                optimizer.apply_gradients(zip(grads, model.trainable_variables))
                return loss, tokens

            self._step = step
        return self._step(*batch)

    # ----- replicas and/or accumulation ---------------------------------------------------------
    def _grad_sums(self, batch):
        """(gradients of the token-loss sum, loss sum, tokens), each summed over the replicas."""
        if self._grads is None:
            model, optimizer, strategy = self.model, self.optimizer, self.strategy

            def replica_fn(*batch):
                with tf.GradientTape() as tape:
                    total, tokens = self.loss_fn(*batch)
                    scaled = optimizer.scale_loss(total)
                grads = tape.gradient(scaled, model.trainable_variables)
                return [_dense(g) for g in grads], total, tokens

            def grads_fn(batch):
                grads, total, tokens = strategy.run(replica_fn, args=batch)
                add = lambda v: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)  # noqa: E731
                return [add(g) for g in grads], add(total), add(tokens)

            self._grads = tf.function(grads_fn, reduce_retracing=True, autograph=AUTOGRAPH)
        return self._grads(batch)

    def _apply_update(self, grads, tokens):
        """Apply ``sum(grads) / tokens`` once. Keras' optimizer, called in a replica context, clips each
        replica's gradient and then sums them across replicas; so the first replica is handed the
        whole (already summed) gradient and the others zeros: the sum is the global gradient and only
        it is clipped, as on one device."""
        if self._apply is None:
            model, optimizer, strategy = self.model, self.optimizer, self.strategy

            def apply_replica(grads, tokens):
                first = tf.cast(tf.equal(tf.distribute.get_replica_context().replica_id_in_sync_group, 0), tokens.dtype)
                optimizer.apply_gradients(zip([g * (first / tokens) for g in grads], model.trainable_variables))

            @tf.function(autograph=AUTOGRAPH)
            def apply_fn(grads, tokens):
                strategy.run(apply_replica, args=(grads, tokens))

            self._apply = apply_fn
        self._apply(grads, tokens)
