"""nmt: neural machine translation on TensorFlow 2 / Keras 3 in which attention is visible."""

__version__ = "0.1.0"
