"""nmt train: train a model into a model directory."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from nmt.cli.common import corpus_options, embedded_splits, load_plugins, override, read_pairs

log = logging.getLogger("nmt")
# The built-in registry names, written out so that `nmt train --help` does not import TensorFlow (5 s)
# to list them; tests/unit/test_cli_help.py checks them against the registries.
FAMILIES = ("rnn", "transformer")
MECHANISMS = ("none", "additive", "concat", "dot", "general", "scaled-dot", "multi-head")


@click.command()
@click.option("--model-dir", required=True, type=click.Path(file_okay=False), help="Directory to create (or resume).")
@corpus_options("train")
@click.option("--train-links", type=click.Path(dir_okay=False),
              help="Word links of the training pairs (Pharaoh i-j, 0-based, one line per pair, e.g. from eflomal): "
                   "guided alignment trains one attention head to follow them.")
@corpus_options("valid")
@click.option("--preset", default=None,
              help="Named starting configuration: tiny, small, base. [default: small on the embedded corpus, "
                   "base otherwise]")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="JSON/YAML file with model/tokenizer/train/decode sections over the preset.")
@click.option("--set", "settings", multiple=True, metavar="SECTION.KEY=VALUE",
              help="Set any configuration field, e.g. --set model.units=128 --set train.label_smoothing=0 (repeatable; "
                   "over the preset and --config, under the named options).")
@click.option("--model", "family", default=None, help=f"Model family: {', '.join(FAMILIES)}. [default: rnn]")
@click.option("--attention", default=None,
              help=f"Attention mechanism: {', '.join(MECHANISMS)}, or one a --plugin registers. [default: additive]")
@click.option("--placement", type=click.Choice(["luong", "bahdanau"]), default=None,
              help="Attend after the recurrence (luong, fast) or feed the context into it (bahdanau).")
@click.option("--input-feed/--no-input-feed", default=None, help="Luong input feeding (needs a step loop in training).")
@click.option("--embedding-dim", type=int, help="Embedding width.")
@click.option("--units", type=int, help="Encoder LSTM units per direction (decoder: twice this).")
@click.option("--encoder-layers", type=int, help="Bidirectional encoder layers.")
@click.option("--decoder-layers", type=int, help="Decoder LSTM layers.")
@click.option("--attention-units", type=int, help="Width of the attention projections.")
@click.option("--heads", type=int, help="Heads of multi-head attention.")
@click.option("--dropout", type=float, help="Dropout rate.")
@click.option("--layers", type=int, help="Transformer: encoder and decoder layers.")
@click.option("--d-model", type=int, help="Transformer: model width.")
@click.option("--ff-dim", type=int, help="Transformer: feed-forward width.")
@click.option("--transformer-heads", type=int, help="Transformer: attention heads.")
@click.option("--pre-norm/--post-norm", default=None,
              help="Transformer: layer norm before (default) or after each sublayer.")
@click.option("--positions", type=click.Choice(["sinusoidal", "learned"]), default=None,
              help="Transformer: position encoding.")
@click.option("--attention-dropout", type=float, help="Transformer: dropout on attention weights (default: --dropout).")
@click.option("--ffn-dropout", type=float,
              help="Transformer: dropout on the feed-forward hidden layer (default: --dropout).")
@click.option("--vocab-size", type=int, help="SentencePiece vocabulary size.")
@click.option("--tokenizer-type", type=click.Choice(["unigram", "bpe"]), default=None, help="SentencePiece model type.")
@click.option("--joint-vocab/--separate-vocab", default=None,
              help="One SentencePiece model for both languages, or one each.")
@click.option("--batch-tokens", type=int, help="Padded target tokens per batch.")
@click.option("--max-tokens", type=int, help="Drop pairs longer than this many subword tokens.")
@click.option("--optimizer", type=click.Choice(["adam", "adamw"]), default=None)
@click.option("--lr", "learning_rate", type=float, help="Learning rate (peak, with inverse-sqrt).")
@click.option("--schedule", type=click.Choice(["constant", "inverse-sqrt", "cosine"]), default=None,
              help="Learning-rate schedule: constant; inverse-sqrt (warmup, then 1/sqrt(step)); cosine (warmup, then "
                   "cosine decay to zero at --steps, which it needs).")
@click.option("--warmup", "warmup_steps", type=int, help="Warmup steps of the inverse-sqrt or cosine schedule.")
@click.option("--adam-beta2", type=float, help="Adam's second-moment decay (0.98 is usual for Transformers).")
@click.option("--label-smoothing", type=float)
@click.option("--clip-norm", type=float, help="Global gradient norm clipping (0 = off).")
@click.option("--steps", "max_steps", type=int, help="Stop after this many training steps.")
@click.option("--epochs", type=float, help="Stop after this many epochs.")
@click.option("--time-budget", type=float, help="Stop after this many minutes of training (validation not counted).")
@click.option("--eval-every", type=int, help="Validate (loss, BLEU), checkpoint every N steps.")
@click.option("--keep-checkpoints", type=int, help="Keep the last K checkpoints.")
@click.option("--patience", type=int, help="Early stopping: validations without BLEU gain (0 = off).")
@click.option("--target-bleu", type=float,
              help="Stop once validation BLEU reaches this (0 = off); a step, "
                   "epoch or time limit still bounds the run.")
@click.option("--accumulate", type=int,
              help="Sum the gradients of N batches into one update (an N times larger batch).")
@click.option("--parallel-parts", type=int,
              help="Compute each batch as P slices side by side, each on one thread (the same update; on 2 cores, "
                   "2 is faster). [default: 1]")
@click.option("--mixed-precision", type=click.Choice(["float32", "float16", "bfloat16"]),
              help="Compute in 16 bits with float32 weights (GPUs; float16 uses loss scaling). [default: float32]")
@click.option("--strategy", type=click.Choice(["none", "mirrored", "multiworker"]), default="none", show_default=True,
              help="tf.distribute: mirrored = every GPU of this machine; multiworker = the cluster in TF_CONFIG.")
@click.option("--guided-weight", type=float,
              help="Guided alignment: weight of the head's loss against --train-links. [default: 1]")
@click.option("--guided-layer", type=int,
              help="Guided alignment: the attention layer it trains (-1: the last). [default: -1]")
@click.option("--guided-head", type=int, help="Guided alignment: the head of that layer. [default: 0]")
@click.option("--guided-shift/--guided-predict", default=None,
              help="Guided alignment: supervise the step that reads each target word (Shift-Att) instead of the step "
                   "that predicts it; align it with `nmt align --shift-att`. [default: --guided-predict]")
@click.option("--guided-full-context/--guided-causal", default=None,
              help="Guided alignment: train the head in a second decoder pass that sees the whole target sentence "
                   "(transformer); align it with `nmt align --full-context`. [default: --guided-causal]")
@click.option("--seed", type=int, help="Random seed.")
@click.option("--beam-size", type=int, help="Default beam size saved for translation.")
@click.option("--resume", is_flag=True,
              help="Continue the training in --model-dir from its last checkpoint, with its saved configuration and "
                   "data (only --steps, --epochs, --time-budget, --target-bleu and --patience may change).")
@click.option("--plugin", multiple=True, help="Python module to import first (registers your own attention or family); "
                                           "recorded in config.json, so later commands import it too.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def train(model_dir, train_src, train_tgt, train_tsv, train_links, valid_src, valid_tgt, valid_tsv, preset, config_file,
          settings, family, attention, placement, input_feed, embedding_dim, units, encoder_layers, decoder_layers,
          attention_units, heads, dropout, layers, d_model, ff_dim, transformer_heads, pre_norm, positions,
          attention_dropout, ffn_dropout, vocab_size, tokenizer_type, joint_vocab, batch_tokens, max_tokens, optimizer,
          learning_rate, schedule, warmup_steps, adam_beta2, label_smoothing, clip_norm, max_steps, epochs, time_budget,
          eval_every, keep_checkpoints, patience, target_bleu, accumulate, parallel_parts, mixed_precision, strategy,
          guided_weight, guided_layer, guided_head, guided_shift, guided_full_context, seed, beam_size, resume, plugin,
          progress):
    """Train a translation model.

    Without corpus files, trains on the embedded synthetic English->Synthdeutsch corpus.
    Stop with --steps, --epochs or --time-budget (minutes).

    \b
    Example:
      nmt train --model-dir runs/m30k --train-src train.en.gz --train-tgt train.de.gz \\
                --valid-src val.en.gz --valid-tgt val.de.gz --time-budget 15
    """
    from nmt import attention as attention_lib, data_record, model_dir as md, models
    from nmt.config import Config, preset as get_preset
    from nmt.registry import import_plugins
    from nmt.training import Trainer

    load_plugins(plugin)
    given = data_record.from_options((train_src, train_tgt, train_tsv), (valid_src, valid_tgt, valid_tsv), train_links)
    embedded = given is None
    resuming = resume and md.is_model_dir(model_dir)
    # A resume starts from the saved configuration, so only the options given now can differ from it
    # (and only the stopping limits may: nmt.training.resumed_config).
    config = (Config.load(Path(model_dir) / md.CONFIG) if resuming and not preset
              else get_preset(preset or ("small" if embedded else "base")))
    if config_file:
        config = config.merge_file(config_file)
    for text in settings:
        config = _setting(config, text)
    config = override(config, "model", family=family, attention=attention, placement=placement, input_feed=input_feed,
                             embedding_dim=embedding_dim, units=units, encoder_layers=encoder_layers,
                             decoder_layers=decoder_layers, attention_units=attention_units, heads=heads,
                             dropout=dropout, layers=layers, d_model=d_model, ff_dim=ff_dim,
                             transformer_heads=transformer_heads, pre_norm=pre_norm, positions=positions,
                             attention_dropout=attention_dropout, ffn_dropout=ffn_dropout)
    config = override(config, "tokenizer", {"model_type": "tokenizer_type", "joint": "joint_vocab"},
                      vocab_size=vocab_size, model_type=tokenizer_type, joint=joint_vocab)
    config = override(config, "train", batch_tokens=batch_tokens, max_tokens=max_tokens, optimizer=optimizer,
                             learning_rate=learning_rate, schedule=schedule, warmup_steps=warmup_steps,
                             adam_beta2=adam_beta2, label_smoothing=label_smoothing, clip_norm=clip_norm,
                             max_steps=max_steps, epochs=epochs,
                             time_budget=None if time_budget is None else time_budget * 60, eval_every=eval_every,
                             keep_checkpoints=keep_checkpoints, patience=patience, target_bleu=target_bleu,
                             accumulate=accumulate, parallel_parts=parallel_parts, mixed_precision=mixed_precision,
                             guided_weight=guided_weight,
                             guided_layer=guided_layer, guided_head=guided_head, guided_shift=guided_shift,
                             guided_full_context=guided_full_context, seed=seed)
    config = override(config, "decode", beam_size=beam_size)
    if plugin:  # recorded, so that every later command imports them before it builds the model
        recorded = [m for m in config.model.plugins.split(",") if m]
        config = override(config, "model", plugins=",".join(recorded + [m for m in plugin if m not in recorded]))
    import_plugins(config.model.plugins, "config.json")  # a resumed model's, recorded when it started
    models.MODELS.get(config.model.family)
    attention_lib.ATTENTION.get(config.model.attention)
    # Every field was checked as it was set (nmt.checks); the model's size is checked against this
    # machine's memory before the tokenizer trains or anything is allocated.
    models.check_size(config.model, config.tokenizer.vocab_size, config.tokenizer.vocab_size, config.train.batch_tokens)

    if resuming:  # exactly the data it was trained on, or a one-line refusal
        sources = data_record.resume_sources(model_dir, given)
        max_words = config.train.max_words
    else:
        sources = given or data_record.embedded(config.train.max_words)
        max_words = config.train.max_words
    train_pairs, valid_pairs, links = _pairs(sources, max_words)
    trainer = Trainer(config, model_dir, train_pairs, valid_pairs, resume=resume, progress=progress, strategy=strategy,
                      data=sources, train_links=links)
    result = trainer.run()
    click.echo(json.dumps({"model_dir": str(model_dir), "steps": result.steps, "best_valid_bleu": result.best_bleu,
                           "train_seconds": round(result.train_seconds, 1),
                           "target_tokens_per_second": round(result.tokens_per_second, 1)}))


def _setting(config, text: str):
    """``config`` with one ``--set SECTION.KEY=VALUE`` applied (the value read as JSON, else as text),
    checked like every other way a field is set."""
    from nmt.benchmark import parse_override
    from nmt.config import merge_sections
    from nmt.errors import UserError

    target, section, key, value = parse_override(text)
    if target is not None:
        raise UserError(f"--set {text!r}: nmt train sets SECTION.KEY=VALUE (a MODEL: prefix is for nmt benchmark)")
    return merge_sections(config, {section: {key: value}}, f"--set {text}")


def _pairs(sources: dict, max_words):
    """(train pairs, valid pairs, the train pairs' word links or None) of a data record: the embedded
    corpus, or the recorded files."""
    if sources["train"].get("embedded"):
        splits = embedded_splits(max_words)
        log.info("training on the embedded synthetic corpus (%d pairs)", len(splits["train"]))
        return splits["train"], splits["valid"], None

    def files(source):
        paths = [f["path"] for f in source["files"]] if source else []
        return (None, None, paths[0]) if source and source["format"] == "tsv" else (*(paths or [None, None]), None)

    links = sources["train"].get("links", {}).get("path")
    train = read_pairs(*files(sources["train"]), "train", max_words, links=links)
    valid_pairs = read_pairs(*files(sources.get("valid")), "valid", max_words) or []
    if not valid_pairs:
        log.info("no validation corpus: the last weights are kept, without BLEU-based selection")
    return [(s, t) for s, t, *_ in train], valid_pairs, [line for *_, line in train] if links else None
