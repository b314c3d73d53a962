"""Same config and seed, same results, whatever the backend: checked through the command line
only, so it runs on a plain ``pip install .`` (no pytest, no extras), as `.ci/run` does.

    python tests/determinism_check.py

Trials big enough for BLAS to use several threads where it may (128 units, batches of 256), on
the in-process backends (sequential, threading) and in worker processes with 1 and 2 jobs:
every trial's params, status and metrics must be identical.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

CONFIG = """\
name: determinism
seed: 5
data: {{source: spirals, classes: 4, samples: 2000}}
model: {{layers: 2, epochs: 6, optimizer: adam, hidden_units: 128}}
space:
  learning_rate: {{scale: log, min: 1.0e-4, max: 1.0e-1}}
  beta1: {{scale: one_minus_log, min: 0.8, max: 0.999}}
  batch_size: {{choice: [128, 256]}}
search: {{trials: 8}}
run: {{runs_dir: {runs}}}
"""
VARIANTS = [
    ["--backend", "sequential"],
    ["--backend", "processes", "--jobs", "1"],
    ["--backend", "processes", "--jobs", "2"],
    ["--backend", "threading", "--jobs", "2"],
]


def records(run_dir: Path) -> list[tuple]:
    out = []
    for line in (run_dir / "trials.jsonl").read_text().splitlines():
        r = json.loads(line)
        out.append((r["trial"], json.dumps(r["params"]), r["status"], json.dumps(r["metrics"])))
    return sorted(out)


def check() -> str:
    """Raise AssertionError on the first difference; return a one-line report."""
    import numpy  # noqa: F401  (loads BLAS, for the report below)
    import threadpoolctl  # a dependency: results on the in-process backends rest on it

    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "determinism.yaml"
        config.write_text(CONFIG.format(runs=Path(tmp) / "runs"))
        seen = []
        for args in VARIANTS:
            done = subprocess.run(
                [sys.executable, "-m", "hpsearch", "run", str(config), "--json", "--quiet", *args],
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, (args, done.stderr)
            seen.append(records(Path(json.loads(done.stdout)["run_dir"])))
        for args, got in zip(VARIANTS[1:], seen[1:], strict=True):
            differing = [a for a, b in zip(seen[0], got, strict=True) if a != b]
            assert not differing, f"{' '.join(args)} differs from sequential on {differing}"
    blas = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    return (
        f"identical records on {len(VARIANTS)} backends ({len(seen[0])} trials); "
        f"BLAS: {', '.join(i['internal_api'] for i in blas) or 'none found'}"
    )


if __name__ == "__main__":
    print(check())
