"""nmt evaluate: sacreBLEU BLEU and chrF with signatures."""

from __future__ import annotations

import json

import click

from nmt.cli.common import parallel_batches_option


@click.command()
@click.argument("model_dir", required=False, type=click.Path(file_okay=False))
@click.option("--src", "src_path", type=click.Path(dir_okay=False), help="Source file to translate with MODEL_DIR.")
@click.option("--ref", "ref_path", type=click.Path(dir_okay=False), help="Reference translations, one per line.")
@click.option("--hyp", "hyp_path", type=click.Path(dir_okay=False),
              help="Hypotheses to score (instead of translating with a model).")
@click.option("--beam-size", type=int, help="Beam size when translating. [default: the model's]")
@click.option("--batch-size", type=int, help="Sentences per batch when translating.")
@parallel_batches_option
@click.option("--embedded-test", is_flag=True, help="Use the embedded corpus' test split as --src/--ref.")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
@click.option("--lowercase", is_flag=True, help="Case-insensitive BLEU/chrF.")
@click.option("--tokenize", type=click.Choice(["13a", "none", "intl", "char", "zh"]),
              default=None, help="sacreBLEU's BLEU tokenization; 'none' for text tokenized on purpose. "
                                 "[default: 13a; none with --embedded-test, which is tokenized]")
@click.option("--moses", metavar="LANG",
              help="Score as published Multi30k results are: both sides lowercased and Moses-tokenized with LANG's "
                   "rules (sacremoses), BLEU on those tokens without smoothing (multi-bleu.perl -lc).")
def evaluate(model_dir, src_path, ref_path, hyp_path, beam_size, batch_size, parallel_batches, embedded_test, as_json,
             lowercase, tokenize, moses):
    """Score translations with sacreBLEU (BLEU and chrF, with signatures).

    \b
    Either translate a test set with a model and score it:
      nmt evaluate runs/m30k --src test.en --ref test.de
    or score existing hypotheses:
      nmt evaluate --hyp test.hyp --ref test.de
    """
    from nmt.cli.common import embedded_splits, options_named, read_text_input, start_threads
    from nmt.errors import UserError
    from nmt.evaluation import score

    if moses and (lowercase or tokenize):
        raise UserError("--moses sets the case and the tokenization itself; leave out --lowercase and --tokenize")
    if embedded_test:
        if src_path or ref_path:
            raise UserError("--embedded-test replaces --src/--ref; give one or the other")
        test = embedded_splits()["test"]
        sources, references = [s for s, _ in test], [t for _, t in test]
    else:
        if not ref_path:
            raise UserError("give --ref FILE with the reference translations (or --embedded-test)")
        references = read_text_input(ref_path)
        sources = read_text_input(src_path) if src_path else None
    if hyp_path:
        if model_dir:
            raise UserError("give either MODEL_DIR (to translate --src) or --hyp (to score a file), not both")
        hypotheses = read_text_input(hyp_path)
    else:
        if not model_dir:
            raise UserError("give MODEL_DIR and --src to translate, or --hyp with existing translations")
        if sources is None:
            raise UserError("give --src FILE: the source sentences to translate")
        if len(sources) != len(references):
            raise UserError(f"{src_path} has {len(sources)} lines but {ref_path} has {len(references)}; "
                            "they must be parallel")
        from nmt.translator import Translator

        start_threads(parallel_batches)  # before TensorFlow runs its first op
        translator = Translator.load(model_dir)
        with options_named("decode"):
            translator.settings(beam_size=beam_size, batch_size=batch_size)
        hypotheses = [h.text for h in translator.translate(sources, beam_size=beam_size, batch_size=batch_size)]
    scores = score(hypotheses, references, lowercase=lowercase,
                   tokenize=tokenize or ("none" if embedded_test else "13a"), moses=moses)
    click.echo(json.dumps(scores.to_dict(), indent=2) if as_json else scores.summary())
