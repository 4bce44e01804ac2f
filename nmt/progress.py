"""The training progress bar, in the terms the run stops on.

* ``--steps``/``--epochs``: steps done of the total, with tqdm's elapsed<remaining (m:ss).
* a time budget only: minutes:seconds of training done of the budget (never raw float seconds).
* a validation-BLEU target: the bar fills with the last validation BLEU towards the target; no
  remaining time is shown, since BLEU does not rise linearly and a guess would mislead.

Every mode shows the step, the recent training loss, target tokens/s and the last validation BLEU.
"""

from __future__ import annotations


def clock(seconds: float) -> str:
    """``83.4`` -> ``'1:23'``; ``3725`` -> ``'1:02:05'`` (tqdm's own format, for labels it does not draw)."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class TrainingBar:
    """A tqdm bar over steps, seconds or validation BLEU; ``mode`` is ``steps``, ``time`` or ``bleu``."""

    def __init__(self, mode: str, total: float, initial: float = 0, enabled: bool = True, file=None):
        from tqdm.auto import tqdm

        if mode not in ("steps", "time", "bleu"):
            raise ValueError(f"unknown progress mode {mode!r}")
        self.mode, self.facts = mode, {}
        formats = {
            "steps": "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} steps [{elapsed}<{remaining}{postfix}]",
            "time": "{desc} |{bar}| [{remaining} left{postfix}]",
            "bleu": "{desc}: valid BLEU {n:.1f} of {total:.0f}|{bar}| [{elapsed}{postfix}]",
        }
        self.bar = tqdm(total=total, initial=initial, disable=not enabled, dynamic_ncols=True, desc="train",
                        bar_format=formats[mode], file=file, mininterval=0 if file is not None else 0.1)
        if mode == "time":
            self._time_label(initial)

    def _time_label(self, done: float) -> None:  # training seconds (validation excluded) as m:ss of the budget
        self.bar.set_description_str(f"train {clock(done)} of {clock(self.bar.total)}", refresh=False)

    def step_done(self, seconds: float) -> None:
        """One update finished in ``seconds``."""
        if self.mode == "steps":
            self.bar.update(1)
        elif self.mode == "time":
            add = min(seconds, max(0.0, self.bar.total - self.bar.n))
            self._time_label(self.bar.n + add)
            self.bar.update(add)
        else:
            self.bar.refresh()  # the elapsed clock keeps moving between validations

    def validated(self, bleu: float | None) -> None:
        if bleu is None:
            return
        self.facts["valid_bleu"] = f"{bleu:.1f}"
        if self.mode == "bleu":
            self.bar.n = min(float(bleu), self.bar.total)
        self.bar.set_postfix(self.facts, refresh=True)

    def show(self, **facts) -> None:
        self.facts.update(facts)
        self.bar.set_postfix(self.facts, refresh=False)

    def close(self) -> None:
        self.bar.close()
