"""Text classification over the translation encoders: data (AG News, CSV/TSV, stratified folds),
configuration and presets, training and inference, metrics, and classifier directories.

The models live in :mod:`nmt.models.classifier`; the command is ``nmt classify``.
"""
