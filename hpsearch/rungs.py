"""The rung plan of an early-stopping search: which trials train how many epochs.

Successive halving (``halving``): every trial trains ``min_epochs``; the best 1/eta of them
go on to eta × that, and so on; the last rung trains to the full budget. Hyperband
(``hyperband``, Li et al. 2018): several such halvings ("brackets"), each starting at a
different budget, from many trials at ``min_epochs`` to a few trained fully from the start.

The rungs' budgets are ``min_epochs × eta^k`` for ``k < s_max = floor(log_eta(max/min))``,
then ``max_epochs``. Bracket ``s`` (s_max down to 0) starts with
``ceil((s_max + 1) / (s + 1) × eta^s)`` trials in the paper; the search's ``trials`` are
shared out in those proportions (exactly the paper's counts when ``trials`` is their sum),
in trial-index order, bracket by bracket. A rung keeps ``floor(n / eta)`` of the ``n``
before it, at least one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hpsearch.files import clean_json
from hpsearch.record import TrialRecord

METHODS = ("halving", "hyperband")


@dataclass(frozen=True)
class Rung:
    trials: int
    epochs: int


@dataclass(frozen=True)
class Bracket:
    number: int  # 0 first
    first: int  # the index of its first trial
    rungs: tuple[Rung, ...]

    @property
    def trials(self) -> range:
        return range(self.first, self.first + self.rungs[0].trials)

    def epochs_continuing(self) -> int:
        """Epochs trained when a promoted trial continues where it stopped."""
        total, before = 0, 0
        for rung in self.rungs:
            total += rung.trials * (rung.epochs - before)
            before = rung.epochs
        return total

    def epochs_restarting(self) -> int:
        """Epochs trained when a promoted trial trains again from scratch."""
        return sum(rung.trials * rung.epochs for rung in self.rungs)


@dataclass(frozen=True)
class RungPlan:
    method: str
    min_epochs: int
    max_epochs: int
    eta: int
    brackets: tuple[Bracket, ...]

    @property
    def trials(self) -> int:
        return sum(b.rungs[0].trials for b in self.brackets)

    @property
    def jobs(self) -> int:
        """Rung trainings in all, at most (fewer when trials fail)."""
        return sum(r.trials for b in self.brackets for r in b.rungs)

    def bracket_of(self, trial: int) -> Bracket:
        for bracket in self.brackets:
            if trial in bracket.trials:
                return bracket
        raise IndexError(f"trial {trial} is not in the plan")

    def epochs_continuing(self) -> int:
        return sum(b.epochs_continuing() for b in self.brackets)

    def epochs_restarting(self) -> int:
        return sum(b.epochs_restarting() for b in self.brackets)

    def epochs_full(self) -> int:
        """Epochs trained by the same trials without early stopping."""
        return self.trials * self.max_epochs

    def lines(self) -> list[str]:
        """The plan as a few lines of text (``validate``, ``sample``)."""
        name = "successive halving" if self.method == "halving" else "Hyperband"
        out = [
            f"early stopping: {name}, eta {self.eta}, {self.min_epochs} to {self.max_epochs} epochs"
        ]
        for bracket in self.brackets:
            rungs = ", ".join(f"{r.trials}×{r.epochs}" for r in bracket.rungs)
            label = f"bracket {bracket.number}" if len(self.brackets) > 1 else "rungs"
            last = bracket.first + bracket.rungs[0].trials - 1
            which = f"trial {last}" if last == bracket.first else f"trials {bracket.first}-{last}"
            out.append(f"  {label}: {which}; trials × epochs: {rungs}")
        full = self.epochs_full()
        cont, again = self.epochs_continuing(), self.epochs_restarting()
        out.append(
            f"  epochs: {cont:,} of the {full:,} of training all fully ({_share(cont, full)})"
        )
        out.append(f"  epochs if trials cannot continue: {again:,} ({_share(again, full)})")
        return out


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "-"


def ladder(min_epochs: int, max_epochs: int, eta: int) -> list[int]:
    """The budgets of the rungs, smallest first (the last is ``max_epochs``)."""
    s_max = 0
    while min_epochs * eta ** (s_max + 1) <= max_epochs:
        s_max += 1
    return [min_epochs * eta**k for k in range(s_max)] + [max_epochs]


def halving_rungs(trials: int, budgets: list[int], eta: int) -> tuple[Rung, ...]:
    rungs, n = [], trials
    for epochs in budgets:
        rungs.append(Rung(n, epochs))
        n = max(1, n // eta)
    return tuple(rungs)


def hyperband_weights(s_max: int, eta: int) -> list[int]:
    """The paper's starting trial counts of brackets s = s_max .. 0."""
    return [math.ceil((s_max + 1) / (s + 1) * eta**s) for s in range(s_max, -1, -1)]


def full_bracket(method: str, min_epochs: int, max_epochs: int, eta: int) -> int:
    """The fewest trials a plan needs to halve down to one trial at every rung: eta^s_max
    for halving, the paper's bracket counts summed for Hyperband (a budget's rounds are at
    least this large, so that each round's rungs decide something)."""
    s_max = len(ladder(min_epochs, max_epochs, eta)) - 1
    if method == "halving":
        return int(eta**s_max)
    return sum(hyperband_weights(s_max, eta))


def share_out(total: int, weights: list[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainders, earlier first)."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def make_plan(
    method: str, trials: int, min_epochs: int, max_epochs: int, eta: int, first: int = 0
) -> RungPlan:
    """The plan for ``trials`` sampled trials, numbered from ``first`` (a round's first trial
    in its search; see the module docstring)."""
    if method not in METHODS:
        raise ValueError(f"unknown early-stopping method {method!r}")
    if not (1 <= min_epochs <= max_epochs) or eta < 2 or trials < 1:
        raise ValueError("need 1 <= min_epochs <= max_epochs, eta >= 2 and trials >= 1")
    budgets = ladder(min_epochs, max_epochs, eta)
    if method == "halving":
        return RungPlan(
            method,
            min_epochs,
            max_epochs,
            eta,
            (Bracket(0, first, halving_rungs(trials, budgets, eta)),),
        )
    s_max = len(budgets) - 1
    counts = share_out(trials, hyperband_weights(s_max, eta))
    brackets: list[Bracket] = []
    for s, n in zip(range(s_max, -1, -1), counts, strict=True):
        if n:
            brackets.append(
                Bracket(len(brackets), first, halving_rungs(n, budgets[s_max - s :], eta))
            )
            first += n
    return RungPlan(method, min_epochs, max_epochs, eta, tuple(brackets))


@dataclass(frozen=True)
class RungResult:
    """One rung training of one trial, as ``rungs.jsonl`` keeps it."""

    bracket: int
    rung: int
    record: TrialRecord
    line: int | None = field(default=None, compare=False)  # its line in rungs.jsonl, if read

    def to_json(self) -> dict[str, Any]:
        return {
            "bracket": self.bracket,
            "rung": self.rung,
            **clean_json(self.record.to_json()),
            "curves": clean_json(self.record.curves) if self.record.curves else None,
        }
