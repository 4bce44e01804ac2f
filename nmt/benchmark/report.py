"""The benchmark report: one JSON file, one Markdown file and PNG plots in an output folder.

Plots: BLEU by source-sentence length (Bahdanau et al. 2015, Fig. 2: does the model without
attention fall off on long sentences, and does attention fix it?), validation BLEU over training
time (learning curves), and training/translation speed.
"""

from __future__ import annotations

import json
from pathlib import Path

from nmt.benchinfo import markdown_header
from nmt.io import atomic_open, atomic_write_text

FILES = {"json": "report.json", "markdown": "report.md", "length": "bleu_by_length.png",
         "curves": "learning_curves.png", "speed": "speed.png"}


def model_flops_utilisation(result: dict, peak_gflops: float) -> float:
    """Share of the measured matmul peak spent on the model's own arithmetic: 6 FLOPs per matmul
    weight per trained target token (the source side is counted as equally long)."""
    flops = 6.0 * result["matmul_parameters"] * result["training"]["target_tokens_per_second"]
    return flops / (peak_gflops * 1e9)


def training_flops(result: dict) -> float:
    """The model's training arithmetic: 6 FLOPs per matmul weight per trained target token (a budget that,
    unlike minutes, means the same on every machine)."""
    return 6.0 * result["matmul_parameters"] * result["training"]["target_tokens"]


def budget_text(train: dict | object) -> str:
    """A model's training budget from its train section: '2,070 steps', '15 min' or '2,070 steps or 15 min'."""
    get = train.get if isinstance(train, dict) else lambda key: getattr(train, key)
    parts = [f"{get('max_steps'):,} steps"] if get("max_steps") else []
    parts += [f"{get('time_budget') / 60:g} min"] if get("time_budget") else []
    return " or ".join(parts) + (" (whichever ends first)" if len(parts) == 2 else "")


def significant(value: float, digits: int = 3) -> float:
    """``value`` rounded to ``digits`` significant digits: a small model's MFU (4e-4 for a tiny LSTM on
    a busy CPU) keeps its size where rounding to 3 decimals would report 0."""
    return float(f"{value:.{digits}g}")


def write(out: Path, report: dict) -> dict:
    """Write every file of ``report`` under ``out``; returns {kind: path}."""
    out.mkdir(parents=True, exist_ok=True)
    for r in report["models"]:
        r["mfu"] = significant(model_flops_utilisation(r, report["matmul_peak"]["peak_gflops"]))
    paths = {k: out / v for k, v in FILES.items()}
    atomic_write_text(paths["json"], json.dumps(report, indent=2) + "\n")
    _plot_lengths(report, paths["length"])
    _plot_curves(report, paths["curves"])
    _plot_speed(report, paths["speed"])
    atomic_write_text(paths["markdown"], markdown(report))
    return paths


def _published(models: list) -> list[str]:
    """A paragraph with the beam-4 BLEU of each model in the published Multi30k convention, where scored."""
    scored = [(r["name"], r["test"]["beam4_published"]) for r in models if "beam4_published" in r["test"]]
    if not scored:
        return []
    return ["Published convention (lowercased, Moses-tokenized, BLEU on tokens as multi-bleu.perl -lc computes it; "
            "`nmt evaluate --moses`), beam 4: " + ", ".join(f"{name} {s['bleu']}" for name, s in scored)
            + f"; signature `{scored[0][1]['bleu_signature']}`.", ""]


def markdown(report: dict) -> str:
    models, m = report["models"], report["machine"]
    first = models[0]["test"]["beam4"]
    lines = [
        f"# {report['title']}", "",
        f"Command: `{report['command']}`", "",
        markdown_header(report), "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; "
        + ", ".join(f"{k} {v}" for k, v in report["versions"].items()) + ".",
        f"Measured float32 matmul peak: {report['matmul_peak']['peak_gflops']:,} GFLOP/s "
        f"({', '.join(f'{n}: {g}' for n, g in report['matmul_peak']['gflops_by_size'].items())}).", "",
        f"Data: {report['data']['description']}. One {report['tokenizer']['model_type']} SentencePiece model of "
        f"{report['tokenizer']['vocab_size']:,} pieces (joint: {report['tokenizer']['joint']}) shared by every model. "
        f"{_budgets(models)}; each model ran in its own process, one after the other. Steps and training FLOPs "
        "(6 per matmul weight per target token) are the budget another machine reproduces; minutes buy more or "
        "fewer of them with the machine's matmul peak.", "",
        "| model | parameters | test BLEU beam 4 | chrF | BLEU greedy | BLEU lowercased | steps | training PFLOP | "
        "minutes | epochs | target tokens/s | MFU | greedy sent/s | beam 4 sent/s | peak MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in models:
        t, tr, s = r["training"], r["translation"], r["test"]
        lines.append(
            f"| {r['name']} | {r['parameters']:,} | {s['beam4']['bleu']} | {s['beam4']['chrf']} | "
            f"{s['greedy']['bleu']} | {s['beam4_lowercase']['bleu']} | {t['steps']:,} | {t['flops'] / 1e15:,.2f} | "
            f"{t['train_seconds'] / 60:.1f} | {t['epochs']} | {t['target_tokens_per_second']:,.0f} | "
            f"{_percent(r['mfu'])} | {tr['greedy_sentences_per_second']} | {tr['beam4_sentences_per_second']} | "
            f"{r['peak_memory_mib']:,.0f} |")
    lines += [
        "",
        f"BLEU signature: `{first['bleu_signature']}`; "
        f"lowercased: `{models[0]['test']['beam4_lowercase']['bleu_signature']}`; "
        f"chrF: `{first['chrf_signature']}`. Translation of the {models[0]['test']['sentences']:,} test sentences in "
        f"batches of {models[0]['translation']['batch_size']}{_at_once(models)}, after one untimed batch. "
        "MFU: 6 FLOPs per matmul weight per target token over the measured matmul peak.", "",
        *_published(models),
        "## BLEU by source length (beam 4)", "", f"![BLEU by length]({FILES['length']})", "",
        "| source words | sentences | " + " | ".join(r["name"] for r in models) + " |",
        "|---|---|" + "---|" * len(models),
    ]
    for i, bucket in enumerate(models[0]["test"]["bleu_by_length_beam4"]):
        cells = [_with_interval(r["test"]["bleu_by_length_beam4"][i]) for r in models]
        lines.append(f"| {bucket['bucket']} | {bucket['sentences']} | " + " | ".join(cells) + " |")
    if "ci95" in models[0]["test"]["bleu_by_length_beam4"][0]:
        lines += ["", "Buckets of fewer than 30 sentences are merged into their neighbour; brackets: 95% bootstrap "
                  "confidence interval (1,000 resamplings of the bucket's sentences). Intervals that overlap do not "
                  "show a difference."]
    lines += ["", "## Learning curves", "", f"![Learning curves]({FILES['curves']})", "",
              f"![Speed]({FILES['speed']})", ""]
    for r in models:
        lines += [f"### {r['name']}", "", "| step | training min | train loss | valid loss | valid BLEU (greedy) |",
                  "|---|---|---|---|---|"]
        lines += [f"| {h['step']} | {h.get('train_seconds', 0) / 60:.1f} | {h.get('train_loss')} | "
                  f"{h.get('valid_loss')} | {h.get('valid_bleu')} |" for h in r["training"]["history"]]
        lines.append("")
    lines += ["## Configurations", ""]
    for r in models:
        lines += [f"- **{r['name']}**: "
                  f"`{json.dumps({k: r['config'][k] for k in ('model', 'train')}, separators=(',', ':'))}`"]
    return "\n".join(lines) + "\n"


def _budgets(models: list) -> str:
    """'Training budget 15 min per model (validation not counted)' or each model's own, e.g. steps."""
    texts = {r["name"]: budget_text(r["config"]["train"]) for r in models}
    if len(set(texts.values())) == 1:
        return f"Training budget {next(iter(texts.values()))} per model (validation not counted)"
    return "Training budgets (validation not counted): " + ", ".join(f"{n} {t}" for n, t in texts.items())


def _percent(share: float) -> str:
    """67% or, below 1%, two significant digits (0.042%): a busy machine's tiny model is not '0%'."""
    return f"{share:.0%}" if share >= 0.01 else f"{share * 100:.2g}%"


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png", dpi=120, bbox_inches="tight")


def _at_once(models: list) -> str:
    """How many batches each model's process decoded at once, where any decoded more than one (the
    threads that parallel parts set for training also run translation's searches side by side)."""
    counts = [m["translation"].get("batches_at_once", 1) for m in models]
    if max(counts) == 1:
        return ""
    if len(set(counts)) == 1:
        return f", {counts[0]} at once"
    return " (" + ", ".join(f"{m['name']}: {n} at once" for m, n in zip(models, counts)) + ")"


def _line_plot(path: Path, lines: list, xlabel: str, ylabel: str, title: str, marker: str) -> None:
    """One line per (label, xs, ys) in ``lines``, gridded, with a legend."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, xs, ys in lines:
        ax.plot(xs, ys, marker=marker, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, path)
    plt.close(fig)


def _with_interval(bucket: dict) -> str:
    return f"{bucket['bleu']} [{bucket['ci95'][0]}, {bucket['ci95'][1]}]" if "ci95" in bucket else str(bucket["bleu"])


def _plot_lengths(report: dict, path: Path) -> None:
    """BLEU by source length, one line per model, each bucket's sentence count under its label and, where
    the report has them, 95% bootstrap bands (the lesson's Fig. 2, with how much each point rests on)."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    first = report["models"][0]["test"]["bleu_by_length_beam4"]
    xs = list(range(len(first)))
    for r in report["models"]:
        buckets = r["test"]["bleu_by_length_beam4"]
        line, = ax.plot(xs, [b["bleu"] for b in buckets], marker="o", label=r["name"])
        if all("ci95" in b for b in buckets):
            ax.fill_between(xs, [b["ci95"][0] for b in buckets], [b["ci95"][1] for b in buckets],
                            color=line.get_color(), alpha=0.15, linewidth=0)
    ax.set_xticks(xs, [f"{b['bucket']}\n({b['sentences']:,})" for b in first])
    ax.set_xlabel("source sentence length in words (test sentences)")
    ax.set_ylabel("test BLEU (beam 4)")
    banded = all("ci95" in b for b in first)
    ax.set_title("BLEU by sentence length" + (", 95% bootstrap bands" if banded else ""))
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, path)
    plt.close(fig)


def _plot_curves(report: dict, path: Path) -> None:
    lines = [(r["name"], [h.get("train_seconds", 0) / 60 for h in r["training"]["history"]],
              [h.get("valid_bleu", 0) for h in r["training"]["history"]]) for r in report["models"]]
    _line_plot(path, lines, "training time (min)", "validation BLEU (greedy)", "Learning curves", ".")


def _plot_speed(report: dict, path: Path) -> None:
    plt = _figure()
    models = report["models"]
    names = [r["name"] for r in models]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    axes[0].bar(names, [r["training"]["target_tokens_per_second"] for r in models], color="tab:blue")
    axes[0].set_title("training target tokens/s")
    width = 0.4
    xs = range(len(names))
    axes[1].bar([x - width / 2 for x in xs], [r["translation"]["greedy_sentences_per_second"] for r in models], width,
                label="greedy")
    axes[1].bar([x + width / 2 for x in xs], [r["translation"]["beam4_sentences_per_second"] for r in models], width,
                label="beam 4")
    axes[1].set_xticks(list(xs), names)
    axes[1].set_title("translation sentences/s")
    axes[1].legend()
    for ax in axes:
        ax.tick_params(axis="x", rotation=20)
        ax.grid(axis="y", alpha=0.3)
    _save(fig, path)
    plt.close(fig)
