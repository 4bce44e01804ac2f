"""nmt classify train | evaluate | predict: text classification over the translation encoders."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from nmt.cli.common import override

log = logging.getLogger("nmt")


def _data_options(required_split: str):
    """--ag-news DIR [--split] | --data FILE [--text-column --label-column --delimiter]."""

    def decorate(f):
        for opt in reversed([
            click.option("--ag-news", "ag_news", type=click.Path(file_okay=False),
                         help="AG News directory (ag_news_csv: train.csv/test.csv[.gz], classes.txt)."),
            click.option("--split", default=required_split, show_default=True,
                         help="AG News split to read: train or test."),
            click.option("--data", "data_file", type=click.Path(dir_okay=False),
                         help="Labelled CSV/TSV file (.tsv/.tab = TSV; .gz ok)."),
            click.option("--text-column", default="text", show_default=True,
                         help="Text column: header name or number from 1."),
            click.option("--label-column", default="label", show_default=True,
                         help="Label column: header name or number from 1."),
        ]):
            f = opt(f)
        return f

    return decorate


def _read(ag_news, split, data_file, text_column, label_column, classes=None, what="--ag-news or --data"):
    from nmt.classification.data import read_ag_news_dir, read_table
    from nmt.errors import UserError

    if bool(ag_news) == bool(data_file):
        raise UserError(f"give exactly one of {what}")
    if ag_news:
        data = read_ag_news_dir(ag_news, split)
        if classes is not None and list(data.classes) != list(classes):
            raise UserError(f"{ag_news} has classes {list(data.classes)} but the model was trained on {list(classes)}")
        return data
    return read_table(data_file, text_column, label_column, classes=tuple(classes) if classes else None)


@click.group()
def classify():
    """Text classification (AG News or your own CSV/TSV) with the translation encoders.

    \b
      nmt classify train --model-dir runs/agnews --ag-news data/ag_news --preset transformer
      nmt classify evaluate runs/agnews --ag-news data/ag_news --split test --json eval.json
      nmt classify predict runs/agnews "Stocks fell sharply on Wall Street today."
    """


@classify.command()
@click.option("--model-dir", required=True, type=click.Path(file_okay=False), help="Directory to create.")
@_data_options("train")
@click.option("--valid", "valid_file", type=click.Path(dir_okay=False),
              help="Validation CSV/TSV (same columns). [default: hold out --valid-fraction]")
@click.option("--preset", default="transformer", show_default=True,
              help="lesson (the Keras example's model), transformer, lstm or minilm (pretrained).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="JSON/YAML file with model/tokenizer/head/train sections over the preset.")
@click.option("--encoder", default=None, help="seq2seq (a translation family's encoder), lesson or bert (pretrained).")
@click.option("--model", "family", default=None, help="Translation family whose encoder to use: rnn or transformer.")
@click.option("--init-from", type=click.Path(file_okay=False),
              help="Start from the encoder (and tokenizer) of a trained translation model directory.")
@click.option("--pretrained", type=click.Path(file_okay=False),
              help="Hugging Face BERT folder for --encoder bert. [default: the MiniLM-L6 package]")
@click.option("--pooling", type=click.Choice(["mean", "attention"]), default=None, help="How token vectors become one.")
@click.option("--max-length", type=int, help="Tokens per text (longer texts are cut).")
@click.option("--vocab-size", type=int, help="SentencePiece vocabulary size.")
@click.option("--epochs", type=float, help="Training epochs (fractions allowed).")
@click.option("--minutes", type=float, help="Stop after this many minutes of training.")
@click.option("--batch-size", type=int, help="Texts per batch.")
@click.option("--lr", "learning_rate", type=float, help="(Peak) learning rate.")
@click.option("--valid-fraction", type=float,
              help="Share of the training data held out for validation without --valid.")
@click.option("--seed", type=int, help="Random seed.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def train(model_dir, ag_news, split, data_file, text_column, label_column, valid_file, preset, config_file, encoder,
          family, init_from, pretrained, pooling, max_length, vocab_size, epochs, minutes, batch_size, learning_rate,
          valid_fraction, seed, progress):
    """Train a classifier into --model-dir; keeps the weights with the best validation accuracy."""
    from nmt.classification import model_dir as cdir
    from nmt.classification.config import classify_preset
    from nmt.classification.data import stratified_split
    from nmt.classification.training import ClassifierTrainer
    from nmt.errors import UserError
    from nmt.io import check_output_directory

    out = Path(model_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out} already exists and is not empty; choose another --model-dir or remove it")
    check_output_directory(out)  # a folder that cannot be written is refused before the budget is spent
    config = classify_preset(preset)
    if config_file:
        config = config.merge_file(config_file)
    config = override(config, "head", encoder=encoder, pooling=pooling, max_length=max_length)
    config = override(override(config, "model", family=family), "tokenizer", vocab_size=vocab_size)
    config = override(config, "train", {"time_budget": "minutes"}, epochs=epochs,
                      time_budget=None if minutes is None else minutes * 60, batch_size=batch_size,
                      learning_rate=learning_rate, valid_fraction=valid_fraction, seed=seed)
    if minutes is not None and epochs is None:
        config = config.override("train", epochs=0.0)
    config.validate()
    data = _read(ag_news, split, data_file, text_column, label_column)
    if valid_file:
        train_data, valid = data, _read(None, None, valid_file, text_column, label_column, classes=data.classes)
    elif config.train.valid_fraction > 0:
        tr, va = stratified_split(data.labels, config.train.valid_fraction, config.train.seed, data.classes)
        train_data, valid = data.subset(tr), data.subset(va)
    else:
        train_data, valid = data, None
    log.info("%d training texts, %d validation; classes: %s", len(train_data), len(valid) if valid else 0,
             ", ".join(f"{c} {n}" for c, n in train_data.counts().items()))
    config, tokenizer, model = cdir.create(config, train_data.texts, len(data.classes), init_from, pretrained)
    history = []
    trainer = ClassifierTrainer(model, config, tokenizer, train_data, valid, progress=progress,
                                on_epoch=lambda r: (history.append(r),
                                                    log.info("epoch %s: %s", r["epoch"], json.dumps(r))))
    result = trainer.run()
    cdir.save(out, config, tokenizer, data.classes, model, history)
    click.echo(json.dumps({"model_dir": str(out), "steps": result.steps, "epochs": result.epochs,
                           "best_valid_accuracy": result.best_valid_accuracy,
                           "train_seconds": round(result.train_seconds, 1),
                           "examples_per_second": round(result.examples_per_second, 1)}))


@classify.command()
@click.argument("model_dir", type=click.Path(file_okay=False))
@_data_options("test")
@click.option("--json", "json_path", type=click.Path(dir_okay=False),
              help="Write the metrics (accuracy, macro-F1, confusion matrix, per class) as JSON.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Draw the confusion matrix (.png or .svg).")
@click.option("--batch-size", type=click.IntRange(1, 1_000_000), default=128, show_default=True,
              help="Texts per batch.")
def evaluate(model_dir, ag_news, split, data_file, text_column, label_column, json_path, plot_path, batch_size):
    """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix on labelled data."""
    from nmt.classification import model_dir as cdir
    from nmt.classification.metrics import plot_confusion, report
    from nmt.classification.training import predict
    from nmt.io import atomic_write_text, check_output_path

    inputs = [p for p in (data_file,) if p]
    for path in (json_path, plot_path):
        if path:
            check_output_path(path, inputs)
    config, tokenizer, classes, model = cdir.load(model_dir)
    data = _read(ag_news, split, data_file, text_column, label_column, classes=classes)
    probs = predict(model, tokenizer, data.texts, config.head.max_length, batch_size)
    rep = report(data.labels, probs.argmax(1), classes)
    click.echo(rep.summary())
    if json_path:
        atomic_write_text(json_path, json.dumps({"model_dir": str(model_dir), **rep.to_dict()}, indent=2) + "\n")
    if plot_path:
        plot_confusion(rep, plot_path)


@classify.command()
@click.argument("model_dir", type=click.Path(file_okay=False))
@click.argument("texts", nargs=-1)
@click.option("-i", "--input", "input_path", type=click.Path(dir_okay=False, allow_dash=True),
              help="File with one text per line ('-' = stdin).")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per text: label, probabilities and the tokens' pooling weights.")
@click.option("--batch-size", type=click.IntRange(1, 1_000_000), default=128, show_default=True,
              help="Texts per batch.")
def predict(model_dir, texts, input_path, as_json, batch_size):
    """Print each text's label and class probabilities (tab-separated, best first)."""
    from nmt.classification import model_dir as cdir
    from nmt.classification.training import predict_with_weights
    from nmt.cli.common import read_text_input
    from nmt.errors import UserError

    if texts and input_path:
        raise UserError("give texts as arguments or with --input, not both")
    texts = list(texts) if texts else read_text_input(input_path)
    if not texts or not any(t.strip() for t in texts):
        raise UserError("no text to classify; give texts as arguments or a file with --input")
    config, tokenizer, classes, model = cdir.load(model_dir)
    probs, weights = predict_with_weights(model, tokenizer, texts, config.head.max_length, batch_size,
                                          keep_weights=as_json)
    pieces = None
    if as_json:
        from nmt.classification.training import encode_texts

        pieces = tokenizer.source_pieces(encode_texts(tokenizer, texts, config.head.max_length)).to_list()
    for i, p in enumerate(probs):
        order = p.argsort()[::-1]
        if as_json:
            click.echo(json.dumps({"label": classes[order[0]],
                                   "probabilities": {classes[j]: round(float(p[j]), 5) for j in order},
                                   "tokens": [t.decode("utf-8") for t in pieces[i]],
                                   "weights": [round(float(w), 5) for w in weights[i]]}, ensure_ascii=False))
        else:
            click.echo("\t".join([classes[order[0]]] + [f"{classes[j]}={p[j]:.3f}" for j in order]))
