"""Adam and AdamW whose per-variable update is TensorFlow's one fused kernel.

Keras 3's Adam updates each variable with about ten separate element-wise operations (two
``assign_add``, a square, a square root, divisions...), each a full pass over the variable; a
Transformer step then spends more time in the optimizer than in its layer norms. These subclasses
keep Keras' variables, schedule, clipping, weight decay (AdamW's decay is applied by the Keras base
class before the update) and checkpoint layout, and replace only :meth:`update_step` with
``ResourceApplyAdam``, which computes the same update (Kingma & Ba 2015, with the bias correction
folded into the step size, exactly as Keras writes it) in one pass; equal to Keras' update to
float32 rounding (tested).
"""

from __future__ import annotations

import keras
import tensorflow as tf


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
