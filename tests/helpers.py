"""Shared test helpers: a valid config as text, and running the CLI."""

from __future__ import annotations

import textwrap

from typer.testing import CliRunner

from hpsearch.cli import app

QUICKSTART = textwrap.dedent(
    """\
    name: quickstart
    seed: 0
    data:   {source: spirals, classes: 4, samples: 2000, noise: 0.2, val_fraction: 0.2}
    model:  {layers: 2, epochs: 30, optimizer: adam}
    space:
      learning_rate: {scale: log, min: 1.0e-4, max: 1.0}
      beta1:         {scale: one_minus_log, min: 0.9, max: 0.999}
      hidden_units:  {scale: linear, min: 16, max: 128, type: int}
      batch_size:    {choice: [32, 64, 128, 256]}
    search: {trials: 40, metric: val_accuracy, direction: maximize}
    zoom:   {top: 5, margin: 0.25, trials: 20, rounds: 0}
    run:    {jobs: -1, backend: loky, runs_dir: runs}
    """
)


def invoke(*args: str):
    """Run ``hpsearch ARGS`` in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def one_line_error(result, *fragments: str, code: int = 2) -> str:
    """The command failed with ``code`` and one ``error:`` line on stderr holding every
    fragment, and no traceback; returns that line."""
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def wait_for_round(runs, round_: int, limit: float = 60):
    """The run directory of zoom round ``round_`` once it has written a trial, or None."""
    import json
    import time

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for run in runs.glob("*"):
            summary = run / "summary.json"
            try:
                started = json.loads(summary.read_text()).get("round") == round_
            except (OSError, ValueError):
                continue
            if started and (run / "trials.jsonl").exists():
                return run
        time.sleep(0.01)
    return None
