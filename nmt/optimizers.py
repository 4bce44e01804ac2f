"""Optimizers: Adam and AdamW whose per-variable update is TensorFlow's one fused kernel, the
learning-rate schedules, and :func:`make_optimizer` from a train section.

Schedules: ``constant``; ``inverse-sqrt`` (linear warmup, then ``1/sqrt(step)``: no end, so a run can be
stopped by time or continued); ``cosine`` (linear warmup, then Keras' cosine decay to zero at
``train.max_steps``: budget-aware in the sense of Li et al. 2020, the rate reaching zero when the step
budget ends; its run must stop by steps).

Keras 3's Adam updates each variable with about ten separate element-wise operations (two
``assign_add``, a square, a square root, divisions...), each a full pass over the variable; a
Transformer step then spends more time in the optimizer than in its layer norms. These subclasses
keep Keras' variables, schedule, clipping, weight decay (AdamW's decay is applied by the Keras base
class before the update) and checkpoint layout, and replace only :meth:`update_step` with
``ResourceApplyAdam``, which computes the same update (Kingma & Ba 2015, with the bias correction
folded into the step size, exactly as Keras writes it) in one pass. Equal to Keras' update to
float32 rounding when the betas are exact in float32 (tested); with others, such as beta_2 = 0.98,
the two round ``1 - beta`` differently (Keras in Python before casting, the kernel after), about
1e-6 relative in the moment updates: the same formula, not bit-identical results.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from nmt.errors import UserError


def _handle(variable):
    """The resource handle of a Keras variable (TensorFlow backend) or of a tf.Variable."""
    return getattr(variable, "_value", variable).handle


class _FusedAdamUpdate:
    def update_step(self, gradient, variable, learning_rate):
        if getattr(self, "amsgrad", False) or not hasattr(getattr(variable, "_value", variable), "handle"):
            return super().update_step(gradient, variable, learning_rate)
        if isinstance(gradient, tf.IndexedSlices):  # an embedding's gradient: the kernel needs it dense
            gradient = tf.convert_to_tensor(gradient)
        index = self._get_variable_index(variable)
        dtype = variable.dtype
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=_handle(variable), m=_handle(self._momentums[index]), v=_handle(self._velocities[index]),
            beta1_power=tf.pow(beta_1, step), beta2_power=tf.pow(beta_2, step),
            lr=tf.cast(learning_rate, dtype), beta1=beta_1, beta2=beta_2,
            epsilon=tf.cast(self.epsilon, dtype), grad=tf.cast(gradient, dtype))


class Adam(_FusedAdamUpdate, keras.optimizers.Adam):
    """``keras.optimizers.Adam`` with the fused update; see the module."""


class AdamW(_FusedAdamUpdate, keras.optimizers.AdamW):
    """``keras.optimizers.AdamW`` with the fused update; see the module."""


class InverseSqrt(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup to ``peak`` over ``warmup`` steps, then ``peak * sqrt(warmup / step)``."""

    def __init__(self, peak: float, warmup: int):
        self.peak, self.warmup = peak, max(1, warmup)

    def __call__(self, step):
        step = tf.cast(step, tf.float32) + 1.0
        return self.peak * tf.minimum(step / self.warmup, tf.sqrt(self.warmup / step))

    def get_config(self):
        return {"peak": self.peak, "warmup": self.warmup}


def cosine(peak: float, warmup: int, total: int):
    """Linear warmup from 0 to ``peak`` over ``warmup`` steps, then cosine decay to 0 at step ``total``
    (Keras' ``CosineDecay``; it holds 0 after ``total``)."""
    if total <= warmup:
        raise UserError(f"the cosine schedule decays after its warmup: train.max_steps ({total}) must exceed "
                        f"train.warmup_steps ({warmup})")
    if warmup == 0:
        return keras.optimizers.schedules.CosineDecay(peak, total)
    return keras.optimizers.schedules.CosineDecay(0.0, total - warmup, warmup_target=peak, warmup_steps=warmup)


def learning_rate(tc):
    """The learning rate (a number or a Keras schedule) of train section ``tc``; a schedule its limits
    cannot run is refused in one line (``nmt benchmark`` asks before any model trains)."""
    if tc.schedule == "constant":
        return tc.learning_rate
    if tc.schedule == "inverse-sqrt":
        return InverseSqrt(tc.learning_rate, tc.warmup_steps)
    if tc.schedule == "cosine":
        if not tc.max_steps:
            raise UserError("the cosine schedule decays to zero at train.max_steps: give a step budget "
                            "(--steps, or --set train.max_steps=N)")
        return cosine(tc.learning_rate, tc.warmup_steps, tc.max_steps)
    raise UserError(f"unknown schedule {tc.schedule!r}; choose constant, inverse-sqrt or cosine")


def make_optimizer(tc):
    lr = learning_rate(tc)
    clip = tc.clip_norm if tc.clip_norm > 0 else None
    if tc.optimizer == "adam":
        optimizer = Adam(lr, beta_2=tc.adam_beta2, global_clipnorm=clip)
    elif tc.optimizer == "adamw":
        optimizer = AdamW(lr, weight_decay=tc.weight_decay, beta_2=tc.adam_beta2, global_clipnorm=clip)
    else:
        raise UserError(f"unknown optimizer {tc.optimizer!r}; choose adam or adamw")
    if tc.mixed_precision == "float16":  # dynamic loss scaling; bfloat16 has float32's range and needs none
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
