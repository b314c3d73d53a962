"""Commands that look at a config and the built-in trainer, running nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hpsearch.cli.common import (
    ConfigArg,
    JsonOpt,
    SeedOpt,
    SetOpt,
    TrialsOpt,
    app,
    console,
    load,
    print_json,
    say,
    user_errors,
    warn_small_budget,
)

if TYPE_CHECKING:
    from rich.console import Console

    from hpsearch.config.cluster import ClusterConfig


@app.command()
def validate(config: ConfigArg, settings: SetOpt = None) -> None:
    """Check a config and what it runs; show the search space.

    Each parameter's scale, range and the 10 / 50 / 90 % quantiles of a draw; the data."""
    import typer

    from hpsearch import api
    from hpsearch.tables import space_table

    with user_errors():
        cfg, objective = api.check(load(config, settings))  # loads data or imports the function
    for hint in cfg.hints:
        typer.echo(hint, err=True)
    warn_small_budget(cfg)
    out = console()
    out.print(space_table(cfg))
    fixed = ", ".join(f"{k}={v}" for k, v in cfg.model.items()) or (
        "trainer defaults" if cfg.objective.is_builtin else "nothing"
    )
    say(out, f"fixed: {fixed}")
    if cfg.run.backend == "joblib":
        from hpsearch.joblib_runner import LIMITS

        name = cfg.run.joblib_backend or "loky"
        say(out, f"backend: joblib ({name}): {LIMITS}")
    if cfg.run.cluster is not None:
        _say_cluster(out, cfg.run.cluster)
    goals = cfg.search.describe()
    if cfg.search.metrics:
        goals += " (ranked by Pareto front)"
    if cfg.search.time_budget is not None:
        from hpsearch.timebudget import spoken

        goals += f", at most {spoken(cfg.search.time_budget)} a command"
    say(out, f"search: {cfg.search.trials} trials, {goals}, seed {cfg.seed}")
    if cfg.search.budget is not None:
        from hpsearch.schedule import of_config

        say(out, of_config(cfg).describe())
    plan = cfg.rung_plan()
    for line in plan.lines() if plan is not None else []:
        say(out, line)
    data = objective.dataset
    if data is not None:
        say(
            out,
            f"data: {data.name}, {len(data.x_train)} training / {len(data.x_val)} validation "
            f"examples, {data.features} features, {data.classes} classes",
        )
    else:
        what = cfg.objective.python or cfg.objective.command
        say(out, f"objective: {cfg.objective.kind} {what} (in {cfg.workdir})")
    if cfg.run.devices is not None:
        say(
            out,
            f"devices: {', '.join(cfg.run.devices)}, {cfg.run.per_device} trial"
            f"{'s' if cfg.run.per_device > 1 else ''} at once on each ({cfg.run.workers} "
            "workers at most)",
        )
        if cfg.objective.is_builtin:
            say(out, "hint: the built-in trainer runs on the CPU and ignores devices")
    out.print(f"{config} is valid", style="green", soft_wrap=True)


@app.command()
def sample(
    config: ConfigArg,
    n: TrialsOpt = None,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    settings: SetOpt = None,
):
    """Draw trials without training, to see how values spread."""
    from hpsearch import api

    with user_errors():
        cfg = load(config, settings)
        trials = api.sample(cfg, n, seed)
        plan = cfg.with_overrides(trials=n).rung_plan()
    if as_json:
        print_json(
            {
                "config": str(config),
                "seed": seed if seed is not None else cfg.seed,
                "space": cfg.space.to_dict(),
                "trials": [{"trial": t.index, "seed": t.seed, "params": t.params} for t in trials],
                **({"rung_plan": plan_json(plan)} if plan is not None else {}),
            }
        )
        return
    from hpsearch.tables import spread_table, trials_table

    out = console()
    out.print(trials_table(list(cfg.space), trials))
    out.print(spread_table(list(cfg.space), trials))
    for line in plan.lines() if plan is not None else []:
        say(out, line)


def plan_json(plan) -> dict:
    """A rung plan as plain data: per bracket, its first trial and (trials, epochs) per rung."""
    return {
        "method": plan.method,
        "eta": plan.eta,
        "min_epochs": plan.min_epochs,
        "max_epochs": plan.max_epochs,
        "brackets": [
            {
                "first_trial": b.first,
                "rungs": [{"trials": r.trials, "epochs": r.epochs} for r in b.rungs],
            }
            for b in plan.brackets
        ],
        "epochs": plan.epochs_continuing(),
        "epochs_restarting": plan.epochs_restarting(),
        "epochs_full": plan.epochs_full(),
    }


@app.command()
def params() -> None:
    """The built-in trainer's hyperparameters and their ranges.

    Tier (the course's tuning priority: 1 first), type, default, valid range, suggested scale
    and meaning of each."""
    from hpsearch import api
    from hpsearch.tables import registry_table
    from hpsearch.trainer.registry import TIER_NOTE

    out = console()
    out.print(registry_table(api.hyperparameters()))
    out.print(TIER_NOTE, markup=False, highlight=False)  # wraps on a narrow terminal


def _say_cluster(out: Console, cluster: ClusterConfig) -> None:
    """The cluster in a line, then the job script each of its workers is submitted with."""
    from hpsearch.cluster import job_script

    say(out, f"cluster: {cluster.describe()}; each job runs this script:")
    with user_errors():
        script = job_script(cluster)
    out.print(script.rstrip("\n"), markup=False, highlight=False, soft_wrap=True)
