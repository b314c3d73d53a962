"""Checking a config, sampling it, re-testing a search's winners and training one model."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hpsearch.api.arguments import Kind, checked_arguments
from hpsearch.api.common import ConfigLike, RunLike, as_config, finished
from hpsearch.config import Config
from hpsearch.config.options import Option
from hpsearch.config.rules import Text
from hpsearch.errors import NoOkTrial
from hpsearch.events import Subscriber
from hpsearch.objectives import Objective
from hpsearch.panda import Panda
from hpsearch.retesting import RetestPlan
from hpsearch.runs import Run, load_search
from hpsearch.sampling import Trial
from hpsearch.starter import Starter, TierRule


@checked_arguments()
def check(config: ConfigLike) -> tuple[Config, Objective]:
    """``hpsearch validate``: the config, checked, and its objective, built (the data loaded,
    a Python function imported), as a run would before its first trial."""
    from hpsearch.objectives import build_objective

    cfg = as_config(config).with_overrides()  # the checks a run makes once its flags are in
    return cfg, build_objective(cfg)


def hyperparameters() -> dict[str, Any]:
    """``hpsearch params``: the built-in trainer's hyperparameters by name (type, default,
    valid range, suggested scale, meaning)."""
    from hpsearch.trainer.registry import REGISTRY

    return dict(REGISTRY)


@checked_arguments()
def sample(config: ConfigLike, n: int | None = None, seed: int | None = None) -> list[Trial]:
    """``hpsearch sample``: the first ``n`` trials (default ``search.trials``) a run would
    draw, without training them."""
    from hpsearch.sampling import sample_trials

    cfg = as_config(config)
    return sample_trials(cfg.space, cfg.seed if seed is None else seed, n or cfg.search.trials)


@checked_arguments()
def plan_retest(
    run: RunLike,
    *,
    runs_dir: str | Path | None = None,
    top: int = 3,
    seeds: int = 5,
    data_source: str | None = None,
    data_seed: int | None = None,
    jobs: int | None = None,
    backend: str | None = None,
) -> RetestPlan:
    """What re-testing a run's best ``top`` trials with ``seeds`` fresh seeds would run."""
    from hpsearch.retesting import plan_retest as plan

    source = load_search(run, runs_dir)
    return plan(
        source,
        top=top,
        seeds=seeds,
        data_source=data_source,
        data_seed=data_seed,
        jobs=jobs,
        backend=backend,
    )


@checked_arguments()
def retest(
    run: RunLike,
    *,
    runs_dir: str | Path | None = None,
    top: int = 3,
    seeds: int = 5,
    data_source: str | None = None,
    data_seed: int | None = None,
    jobs: int | None = None,
    backend: str | None = None,
    on_event: Subscriber | None = None,
) -> Run:
    """Re-train a search's winners with fresh seeds (``hpsearch retest``); the verdict is the
    returned run's ``summary["retest"]``."""
    plan = plan_retest(
        run,
        runs_dir=runs_dir,
        top=top,
        seeds=seeds,
        data_source=data_source,
        data_seed=data_seed,
        jobs=jobs,
        backend=backend,
    )
    return finished(plan.run(on_event))


@checked_arguments()
def plan_train(
    config: ConfigLike,
    *,
    settings: Mapping[str, Any] | None = None,
    from_run: RunLike | None = None,
    runs_dir: str | Path | None = None,
) -> Panda:
    """One model to train: the config's searched parameters fixed from ``settings``, else
    the best trial of ``from_run``, else the middle of their ranges."""
    from hpsearch.panda import plan

    cfg = as_config(config)
    if runs_dir is not None:
        cfg = cfg.with_overrides(runs_dir=runs_dir)
    from_params = None
    if from_run is not None:
        source = load_search(from_run, runs_dir or cfg.run.runs_dir)
        best = source.best
        if best is None:
            raise NoOkTrial(f"{source.path}: no ok trial to start from")
        from_params = {**source.config.model, **best.params}
    return plan(cfg, dict(settings or {}), from_params)


@checked_arguments()
def train(
    config: ConfigLike,
    *,
    settings: Mapping[str, Any] | None = None,
    from_run: RunLike | None = None,
    runs_dir: str | Path | None = None,
    report: Any = None,
) -> Run:
    """Train one model in the foreground (``hpsearch train``, panda mode), calling
    ``report(epoch, **metrics)`` after each epoch; saved as a one-trial run."""
    panda = plan_train(config, settings=settings, from_run=from_run, runs_dir=runs_dir)
    return finished(panda.train(report))


@checked_arguments(
    path=Option("path", Kind((str, os.PathLike), "a file path")),
    tier=Option("--tier", TierRule()),
    data=Option("--data", Text("a data source: spirals, blobs, digits or a .npz file")),
)
def init(path: Path | str | None = None, *, tier: int = 2, data: str | None = None) -> Starter:
    """``hpsearch init``: write a starter config of the course's tiers 1 to ``tier`` to
    ``path`` (default ``hpsearch.yaml``), on ``data`` (default the quickstart's spirals);
    never over an existing file."""
    from hpsearch.starter import DEFAULT_PATH, write_starter

    return write_starter(DEFAULT_PATH if path is None else path, tier, data)
