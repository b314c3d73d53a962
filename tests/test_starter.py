"""Getting started: the course's tuning priorities in ``params``, and ``hpsearch init``."""

from __future__ import annotations

import pytest

from hpsearch import api
from hpsearch.trainer.registry import REGISTRY

from .helpers import invoke

COURSE_TIERS = {
    "learning_rate": "1",
    "beta1": "2",
    "momentum_beta": "2",
    "hidden_units": "2",
    "batch_size": "2",
    "layers": "3",
    "lr_decay": "3",
    "adam_beta1": "-",
    "adam_beta2": "-",
    "adam_epsilon": "-",
}


def rows_by_name(text: str) -> dict[str, list[str]]:
    """The words of each table row, by the hyperparameter it starts with."""
    rows = {}
    for line in text.splitlines():
        words = line.split()
        if words and words[0] in REGISTRY:
            rows[words[0]] = words
    return rows


def test_params_shows_the_course_tier_of_each_hyperparameter():
    result = invoke("params")
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if line.startswith("name"))
    assert header.split()[:2] == ["name", "tier"]
    rows = rows_by_name(result.stdout)
    assert set(rows) == set(REGISTRY)
    for name, tier in COURSE_TIERS.items():
        assert rows[name][1] == tier, name
    assert "usually left at their defaults 0.9, 0.999, 1e-8" in " ".join(result.stdout.split())
    assert api.hyperparameters()["learning_rate"].tier == 1  # the data is in the registry


def test_params_at_80_columns_keeps_every_scale_whole(monkeypatch):
    monkeypatch.setattr("hpsearch.console._isatty", lambda stream: True)
    monkeypatch.setenv("COLUMNS", "80")
    result = invoke("params")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert "…" not in result.stdout
    header = next(line for line in lines if line.startswith("name"))
    assert "scale" in header.split() and "tier" in header.split()
    rows = rows_by_name(result.stdout)
    assert set(rows) == set(REGISTRY)
    for name, h in REGISTRY.items():
        scale = h.suggested_scale if h.type in ("int", "float") else "choice"
        assert scale in rows[name], (name, rows[name])
    hidden = [line for line in lines if line.startswith("hidden:")]
    assert all("scale" not in line for line in hidden)


@pytest.mark.parametrize("tier", [1, 2, 3])
def test_registry_tiers_come_with_a_search_range_on_the_suggested_scale(tier):
    written = [h for h in REGISTRY.values() if h.tier == tier and h.search_range]
    assert written, tier
    for h in written:
        low, high = h.search_range
        assert h.interval is not None and h.interval.contains(low) and h.interval.contains(high)
        assert low < high
