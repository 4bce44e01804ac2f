#!/usr/bin/env python
"""AG News classification benchmark: stratified k-fold cross-validation, the same folds for every model.

Protocol on these machines (../shared/data/README.md): only the 7,600-row AG News test set is
available, so models are compared by stratified 5-fold cross-validation over it (scikit-learn's
StratifiedKFold, shuffle, random_state 0), mean ± std accuracy. Within a fold every neural model
trains its own SentencePiece model on the fold's training texts and holds out 10% of them for
model selection; the fold's test texts are seen only once, at the end.

Models: ``tfidf`` (word 1-2-gram TF-IDF + logistic regression, the honesty check), ``lesson`` (the Keras
example's model, trained as in the lesson; ``lesson-masked``: the same with a padding mask), ``lstm`` and
``transformer`` (the translation encoders with a pooling head), ``minilm-frozen`` (MiniLM-L6 mean-pooled
embeddings + logistic regression) and ``minilm`` (MiniLM-L6 fine-tuned, head first; expensive: use
``--max-folds 1`` or ``--split-80-20``). Writes results/NAME.json and results/NAME.md (``--out`` another
folder), and keeps every model's predictions, one test text a line, in results/NAME_MODEL_predictions.tsv.gz
(gzip; columns ``row`` (the text's 0-based row in the split file), ``fold``, ``label``, ``predicted``), so
each fold's accuracy can be re-scored from them.

    python scripts/bench_classification.py --ag-news ../shared/data/ag_news --name ag_news_cv
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from nmt.benchinfo import report_options, start_script  # noqa: E402 (after the path)

MODELS = ("tfidf", "lesson", "lstm", "transformer", "minilm-frozen")
# Neural models: name -> (classifier preset, overrides). "lesson-masked" is the lesson's model with one
# change, a padding mask in attention and pooling: the ablation that explains its failures.
NEURAL = {"lesson": ("lesson", {}), "lesson-masked": ("lesson", {"head.mask_padding": True}),
          "lstm": ("lstm", {}), "transformer": ("transformer", {}), "minilm": ("minilm", {})}


def run_tfidf(train, test):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(max_iter=1000))
    start = time.perf_counter()
    model.fit(train.texts, train.labels)
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = model.predict(test.texts)
    return predicted, train_seconds, len(test) / (time.perf_counter() - start), {}


def run_neural(name, train, test, overrides, holdout=True):
    preset, fixed = NEURAL[name]
    overrides = {**fixed, **overrides}
    from nmt.classification import model_dir as cdir
    from nmt.classification.config import classify_preset
    from nmt.classification.data import stratified_split
    from nmt.classification.training import ClassifierTrainer, predict

    config = classify_preset(preset)
    for key, value in overrides.items():
        section, field = key.split(".", 1)
        config = config.override(section, **{field: value})
    if holdout:  # 10% of the training part picks the best epoch
        tr, va = stratified_split(train.labels, 0.1, seed=0)
        fit, valid = train.subset(tr), train.subset(va)
    else:  # every training text is trained on; the last epoch's weights are kept
        fit, valid = train, None
    start = time.perf_counter()
    config, tokenizer, model = cdir.create(config, fit.texts, len(train.classes))
    result = ClassifierTrainer(model, config, tokenizer, fit, valid).run()
    train_seconds = time.perf_counter() - start
    predict(model, tokenizer, test.texts[:128], config.head.max_length)  # trace once, untimed
    start = time.perf_counter()
    probs = predict(model, tokenizer, test.texts, config.head.max_length)
    per_second = len(test) / (time.perf_counter() - start)
    extra = {"epochs": result.epochs, "best_valid_accuracy": result.best_valid_accuracy, "history": result.history,
             "parameters": int(sum(w.numpy().size for w in model.trainable_weights)), "config": config.to_dict()}
    if hasattr(model, "pool") and model.head.hidden is not None:
        extra.update(hidden_layer_activity(model, tokenizer, test.texts, config.head.max_length))
    return probs.argmax(1), train_seconds, per_second, extra


def hidden_layer_activity(model, tokenizer, texts, max_length):
    """Of the head's ReLU layer: units never active on ``texts`` ("dead"), and the spread of the pooled
    vectors it reads (mean over features of the std across texts): the evidence for why a model stays
    at chance."""
    import numpy as np
    import tensorflow as tf

    from nmt.classification.training import encode_texts

    ids = encode_texts(tokenizer, texts, max_length)  # [N,(S)]
    pooled = np.concatenate([model.pool(ids[i : i + 256].to_tensor(0))[0].numpy() for i in range(0, len(texts), 256)])
    active = np.asarray(model.head.hidden(tf.constant(pooled))) > 0  # [N,hidden]
    return {"hidden_units": int(active.shape[1]), "dead_hidden_units": int((~active.any(axis=0)).sum()),
            "pooled_spread": float(pooled.std(axis=0).mean())}


_EMBEDDINGS = {}


def minilm_embeddings(texts):
    """Mean-pooled MiniLM-L6 sentence embeddings [N,384] of ``texts`` (computed once per run)."""
    import numpy as np
    import tensorflow as tf

    from nmt.classification.bert import find_minilm, load_pretrained, mean_pool
    from nmt.pipeline import length_sorted_batches

    key = id(texts)
    if key not in _EMBEDDINGS:
        encoder, tokenizer = load_pretrained(find_minilm(), max_length=128)
        # any batch shape
        embed = tf.function(lambda ids, mask: mean_pool(encoder(ids, mask), mask), reduce_retracing=True)
        lengths = np.array([len(t) for t in texts])
        out = np.zeros((len(texts), encoder.config.hidden_size), np.float32)
        start = time.perf_counter()
        for idx in length_sorted_batches(lengths, 64):
            ids, mask = tokenizer([texts[i] for i in idx])
            out[idx] = embed(ids, mask).numpy()
        _EMBEDDINGS[key] = (out, len(texts) / (time.perf_counter() - start))
    return _EMBEDDINGS[key]


def run_minilm_frozen(all_texts, train_idx, test_idx, labels):
    """Frozen MiniLM mean-pooled embeddings + logistic regression (embeddings of every text computed once)."""
    from sklearn.linear_model import LogisticRegression

    features, per_second = minilm_embeddings(all_texts)
    start = time.perf_counter()
    model = LogisticRegression(max_iter=2000).fit(features[train_idx], labels[train_idx])
    seconds = time.perf_counter() - start
    return model.predict(features[test_idx]), seconds, per_second, {"note": "inference speed: embedding texts"}


def summarise(runs):
    acc = [r["accuracy"] for r in runs]
    mean = statistics.mean(acc)
    return {"accuracy_mean": mean, "accuracy_std": statistics.stdev(acc) if len(acc) > 1 else 0.0,
            "macro_f1_mean": statistics.mean(r["macro_f1"] for r in runs),
            "train_seconds_mean": statistics.mean(r["train_seconds"] for r in runs),
            "examples_per_second_mean": statistics.mean(r["examples_per_second"] for r in runs),
            "folds_at_chance": sum(a < 0.3 for a in acc)}


def confusion_plots(result, out: Path) -> None:
    """One confusion matrix per model, summed over its folds (every text once): OUT_MODEL_confusion.png."""
    from nmt.classification.metrics import plot_confusion, report_from_confusion

    for name, model in result["models"].items():
        summed = sum(np.asarray(r["confusion"]) for r in model["folds"])
        rep = report_from_confusion(summed, result["classes"])
        plot_confusion(rep, out.parent / f"{out.name}_{name}_confusion.png",
                       title=f"{name}: accuracy {100 * rep.accuracy:.1f}%, {rep.examples:,} test predictions")


def keep_predictions(path: Path, runs: list, classes) -> str:
    """The predictions of every fold as a gzip TSV (header ``row fold label predicted``, class names);
    returns the path as the report names it."""
    from nmt import benchinfo

    lines = ["row\tfold\tlabel\tpredicted"]
    for fold, rows, labels, predicted in runs:
        lines += [f"{r}\t{fold}\t{classes[t]}\t{classes[p]}" for r, t, p in zip(rows, labels, predicted)]
    return benchinfo.keep_hypotheses(path, lines)


def markdown(result) -> str:
    from nmt import benchinfo

    lines = [f"# {result['title']}", "", f"Command: `{result['command']}`", benchinfo.markdown_header(result), "",
             benchinfo.machine_line(result), "",
             f"Data: {result['data']} ({result['examples']:,} texts, "
             + (f"{result['folds']} stratified folds, StratifiedKFold(shuffle=True, random_state=0)"
                if result["folds"] > 1
                else "one stratified 80/20 split, train_test_split(stratify, random_state=0)")
             + ("; each neural model holds out 10% of a fold's training texts for model selection and trains its own "
                "SentencePiece model on the rest)." if result.get("holdout", True) else
                "; each neural model trains on all of a fold's training texts and keeps its last epoch's weights)."),
             "",
             "| model | accuracy (mean ± std) | per fold | macro-F1 | folds at chance | train s / fold | "
             "inference texts/s |",
             "|---|---|---|---|---|---|---|"]
    for name, model in result["models"].items():
        s = model["summary"]
        folds = " ".join(f"{100 * r['accuracy']:.1f}" for r in model["folds"])
        lines.append(f"| {name} | {100 * s['accuracy_mean']:.1f} ± {100 * s['accuracy_std']:.1f} | {folds} | "
                     f"{100 * s['macro_f1_mean']:.1f} | {s['folds_at_chance']} | {s['train_seconds_mean']:.0f} | "
                     f"{s['examples_per_second_mean']:,.0f} |")
    probed = {n: m for n, m in result["models"].items() if "dead_hidden_units" in m["folds"][0]}
    if probed:
        lines += ["", "The head's ReLU layer after training, per fold: units never active on the fold's test texts, "
                  "and the spread of the pooled vectors it reads (mean over features of their std across texts); "
                  "epoch-by-epoch validation accuracy in the JSON.", "",
                  "| model | fold | accuracy | dead ReLU units | pooled-vector spread | validation accuracy by epoch |",
                  "|---|---|---|---|---|---|"]
        for name, model in probed.items():
            for r in model["folds"]:
                curve = " ".join(f"{100 * h.get('valid_accuracy', 0):.0f}" for h in r.get("history", []))
                lines.append(f"| {name} | {r['fold']} | {100 * r['accuracy']:.1f} | {r['dead_hidden_units']} / "
                             f"{r['hidden_units']} | {r['pooled_spread']:.4f} | {curve} |")
    if "classes" in result:
        lines += ["", "Confusion matrices (summed over folds): " + " ".join(
            f"![{n}]({result['name']}_{n}_confusion.png)" for n in result["models"]), ""]
    kept = [f"`{m['predictions']}`" for m in result["models"].values() if "predictions" in m]
    if kept:
        lines += ["Predictions, every test text of every fold (gzip TSV: row, fold, label, predicted): "
                  + ", ".join(kept) + ".", ""]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ag-news", default=str(ROOT.parent / "shared" / "data" / "ag_news"), help="AG News directory")
    parser.add_argument("--split", default="test", help="the split to cross-validate over")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--max-folds", type=int, default=0, help="run only the first N folds (0 = all)")
    parser.add_argument("--split-80-20", action="store_true", help="one fixed stratified 80/20 split instead of folds")
    parser.add_argument("--set", action="append", default=[], metavar="MODEL:SECTION.KEY=VALUE")
    report_options(parser, ROOT, "ag_news_cv")
    parser.add_argument("--title", default="AG News, stratified 5-fold cross-validation over the 7,600 test rows")
    parser.add_argument("--no-holdout", action="store_true",
                        help="train neural models on the whole training part (no 10%% validation; last epoch kept)")
    parser.add_argument("--replot", metavar="JSON",
                        help="only redraw the confusion plots and Markdown of an earlier run")
    args = parser.parse_args(argv)
    header = start_script(args)  # refuses a dirty checkout; runs a copy of the code
    if args.replot:
        out = Path(args.replot).with_suffix("")
        result = json.loads(Path(args.replot).read_text())
        if "classes" not in result:
            from nmt.classification.data import read_ag_news_dir

            result["classes"] = list(read_ag_news_dir(args.ag_news, args.split).classes)
        result["name"] = out.name
        confusion_plots(result, out)
        out.with_suffix(".md").write_text(markdown(result))
        return

    from nmt.classification.data import read_ag_news_dir, stratified_folds
    from nmt.classification.metrics import report

    data = read_ag_news_dir(args.ag_news, args.split)
    folds = stratified_folds(data.labels, args.folds, seed=0)
    if args.split_80_20:
        from nmt.classification.data import stratified_split

        folds, args.folds = [stratified_split(data.labels, 0.2, seed=0)], 1
    if args.max_folds:
        folds = folds[: args.max_folds]
    overrides: dict[str, dict] = {}
    for item in args.set:
        target, _, rest = item.partition(":")
        key, _, raw = rest.partition("=")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        overrides.setdefault(target, {})[key] = value
    result = {"title": args.title, "name": args.name, **header, "data": f"{args.ag_news} ({args.split})",
              "examples": len(data), "folds": args.folds, "holdout": not args.no_holdout, "models": {}}
    out = Path(args.out) / args.name
    out.parent.mkdir(parents=True, exist_ok=True)
    names = args.models.split(",")
    unknown = [n for n in names if n not in ("tfidf", "minilm-frozen", *NEURAL)]
    if unknown:
        sys.exit(f"unknown model(s) {unknown}; choose from tfidf, minilm-frozen, {', '.join(NEURAL)}")
    for name in names:
        runs, kept = [], []
        for i, (train_idx, test_idx) in enumerate(folds):
            train, test = data.subset(train_idx), data.subset(test_idx)
            if name == "tfidf":
                predicted, seconds, per_second, extra = run_tfidf(train, test)
            elif name == "minilm-frozen":
                predicted, seconds, per_second, extra = run_minilm_frozen(data.texts, train_idx, test_idx, data.labels)
            else:
                predicted, seconds, per_second, extra = run_neural(name, train, test, overrides.get(name, {}),
                                                                   holdout=not args.no_holdout)
            rep = report(test.labels, predicted, data.classes)
            kept.append((i, test_idx, test.labels, np.asarray(predicted)))
            runs.append({"fold": i, "accuracy": rep.accuracy, "macro_f1": rep.macro_f1, "confusion": rep.confusion,
                         "train_seconds": round(seconds, 1), "examples_per_second": round(per_second, 1), **extra})
            print(f"{name} fold {i}: accuracy {100 * rep.accuracy:.2f}%, {seconds:.0f} s", flush=True)
        result["models"][name] = {"summary": summarise(runs), "folds": runs, "predictions": keep_predictions(
            out.parent / f"{out.name}_{name}_predictions.tsv.gz", kept, data.classes)}
        result["classes"] = list(data.classes)
        out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
        confusion_plots(result, out)
        out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
