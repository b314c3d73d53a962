import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from hpsearch import yamlio

from .helpers import SMALL, TRAINER, merged, run_json

# Deterministic property tests: the same examples on every run, locally and in CI.
settings.register_profile(
    "hpsearch", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "hpsearch"))


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Path]:
    """``make_config(name=None, *, base=SMALL, **sections) -> Path``: a config file.

    A deep copy of ``base`` (a config as plain data; helpers.py has the shared ones) with
    ``run.runs_dir`` set to ``tmp_path / "runs"``, then each of ``sections`` merged in (see
    ``helpers.merged``: a mapping merges into its section key by key, ``DROP`` removes a key or
    a section), written with ``hpsearch.yamlio.dump`` to ``tmp_path / f"{name}.yaml"``. The
    name (also the config's ``name``) defaults to the base's, else "config". Writing the same
    name again overwrites the file.
    """

    def make(name: str | None = None, *, base: Mapping[str, Any] = SMALL, **sections) -> Path:
        doc = merged(base, {"run": {"runs_dir": str(tmp_path / "runs")}})
        doc = merged(doc, sections)
        name = name or doc.get("name") or "config"
        doc = {"name": name, **{k: v for k, v in doc.items() if k != "name"}}
        path = tmp_path / f"{name}.yaml"
        path.write_text(yamlio.dump(doc))
        return path

    return make


@pytest.fixture
def trainer_run(make_config) -> Callable[..., dict]:
    """``trainer_run(*args) -> dict``: ``hpsearch run`` of the ``TRAINER`` config (written to
    ``small.yaml``) with ``args``; its JSON."""

    def run(*args: str) -> dict:
        return run_json("run", str(make_config(base=TRAINER)), *args)

    return run
