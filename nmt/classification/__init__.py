"""Text classification over the translation encoders, in one package (the command is ``nmt classify``):

* :mod:`~nmt.classification.config`      sections (model, tokenizer, head, train), presets
* :mod:`~nmt.classification.classifiers` the ``CLASSIFIERS`` registry (seq2seq, lesson, bert), pooling and head
* :mod:`~nmt.classification.bert`        the BERT encoder port, its WordPiece tokenizer and checkpoint loader
* :mod:`~nmt.classification.pretrained`  a Hugging Face folder (MiniLM-L6 by default) as a classifier's encoder
* :mod:`~nmt.classification.data`        AG News, CSV/TSV, stratified folds
* :mod:`~nmt.classification.training`    training and inference on raw strings
* :mod:`~nmt.classification.metrics`     accuracy, macro-F1, confusion matrices
* :mod:`~nmt.classification.model_dir`   save, create and load a classifier directory

It builds on the translation packages (:mod:`nmt.models`' ``encode`` contract, :mod:`nmt.config`),
which never import it.
"""
