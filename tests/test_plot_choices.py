"""``hpsearch plot`` draws a choice parameter as the HTML report does: a strip per value."""

from __future__ import annotations

import numpy as np
import pytest

from hpsearch.config import parse_config
from hpsearch.pages.svg import Axis
from hpsearch.record import TrialRecord

SPACE = {
    "space": {
        "learning_rate": {"scale": "log", "min": 1.0e-3, "max": 1.0e-1},
        "batch_size": {"choice": [32, 64, 128]},
    },
    "search": {"metric": "val_accuracy", "direction": "maximize"},
}


def records() -> list[TrialRecord]:
    sizes = [32, 64, 128, 64, 32, 128, 64]
    out = [
        TrialRecord(
            trial=i,
            params={"learning_rate": 10 ** (-3 + i / 4), "batch_size": size},
            seed=i,
            status="ok",
            metrics={"val_accuracy": 0.5 + 0.05 * i},
        )
        for i, size in enumerate(sizes)
    ]
    failed = TrialRecord(
        trial=7, params={"learning_rate": 0.01, "batch_size": 128}, seed=7, status="failed"
    )
    return [*out, failed]


@pytest.mark.slow
def test_plot_draws_a_strip_per_choice_value(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from hpsearch.plot import plot_run

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)  # keep the figure to look at it
    config = parse_config(SPACE)
    out = plot_run(config, records(), {}, tmp_path / "plot.png")
    assert out.read_bytes()[:4] == b"\x89PNG"
    (figure,) = figures
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_xlabel() for ax in visible] == ["learning_rate (log)", "batch_size (choice)"]
    strip = visible[1]
    assert [t.get_text() for t in strip.get_xticklabels()] == ["32", "64", "128"]
    assert strip.get_xlim() == (0.0, 1.0)
    points = strip.collections[0].get_offsets()  # the ok trials, where the report puts them
    axis = Axis(config.space["batch_size"])
    ok = records()[:7]
    expected = [[axis.unit(r.params["batch_size"], r.trial), r.metrics["val_accuracy"]] for r in ok]
    assert np.allclose(sorted(points.tolist(), key=lambda p: p[1]), expected)  # drawn best first
    for (x, _), r in zip(expected, ok, strict=True):  # each inside its value's third
        index = [32, 64, 128].index(r.params["batch_size"])
        assert index / 3 < x < (index + 1) / 3
    crosses = strip.collections[1].get_offsets()  # the failed trial, in its strip
    assert 2 / 3 < crosses[0][0] < 1


@pytest.mark.slow
def test_plot_of_a_search_of_rounds_spans_the_whole_space_and_shades_the_last_round(
    tmp_path, monkeypatch
):
    """Found while testing issue 23: the axis was cut to the last round's range (trials of
    earlier rounds fell off it) and the whole space was shaded as the zoomed range."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from hpsearch.plot import plot_run

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    config = parse_config(SPACE)
    last = parse_config(
        {
            **SPACE,
            "space": {
                **SPACE["space"],
                "learning_rate": {"scale": "log", "min": 0.01, "max": 0.02},
            },
        }
    ).space
    plot_run(config, records(), {}, tmp_path / "plot.png", last_region=last)
    (figure,) = figures
    panel = figure.axes[0]
    low, high = panel.get_xlim()
    xs = [r.params["learning_rate"] for r in records()]
    assert low < 1.0e-3 and high > 1.0e-1  # the whole space, every trial on it
    assert low <= min(xs) and max(xs) <= high
    (shade,) = [p for p in panel.patches if p.get_label() == "last round's range"]
    box = shade.get_extents().transformed(panel.transData.inverted())
    assert (box.x0, box.x1) == (pytest.approx(0.01), pytest.approx(0.02))
