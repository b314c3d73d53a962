"""``hpsearch zoom``: the next round of a search, planned from its history before anything is
written (``plan_zoom``): its region inside the newest round's, as the course's zoom cuts it
(``ZoomStrategy.propose``), the same region as a standalone config (``--write-config``), and
``ZoomPlan.start()``, the round added to the search's run, ready to run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hpsearch.api.arguments import checked_arguments
from hpsearch.config import Config
from hpsearch.config.options import ZOOM_TRIALS
from hpsearch.errors import NoOkTrial, RunError, UserError
from hpsearch.events import Notice
from hpsearch.paths import shown
from hpsearch.record import TrialRecord
from hpsearch.rounds import Round
from hpsearch.runs import Run, load_search
from hpsearch.session import SearchSession
from hpsearch.strategies import Proposal

RunLike = str | Path | Run


@dataclass
class ZoomPlan:
    """The next round of a search: its region (``proposal``), the round number, the trials it
    was narrowed around; ``config`` is the same region as a standalone config."""

    source: Run
    proposal: Proposal
    round: int
    anchors: list[TrialRecord]
    config: Config
    runs_dir: str | Path | None = None
    jobs: int | None = None
    backend: str | None = None
    scheduler: str | None = None
    notices: list[Notice] = field(default_factory=list)
    cluster: str | None = None  # --cluster KIND
    scheduler_file: str | None = None

    @property
    def parent(self) -> Round:
        """The round the new one is cut from (the search's newest)."""
        return self.source.history.rounds[-1]

    def write(self, path: str | Path) -> Path:
        """Write the narrowed region as an ordinary config (``--write-config``)."""
        from hpsearch import yamlio
        from hpsearch.files import atomic_write

        header = (
            f"# Zoomed from {self.source.path} (as its round {self.round}) around "
            f"{len(self.anchors)} trial(s). An ordinary config: edit it, then hpsearch run it.\n"
        )
        target = Path(path)
        try:
            atomic_write(target, header + yamlio.dump(self.config.to_dict(absolute_paths=True)))
        except OSError as exc:
            raise UserError(f"{target}: cannot write: {exc.strerror or exc}") from None
        return target

    def start(self) -> SearchSession:
        """The new round, added to the search's run, ready to run."""
        from hpsearch.legacy import writable
        from hpsearch.search import resume_search

        store, said = writable(self.source)
        notices = [Notice(said, warning=True)] if said else []
        search = resume_search(store).search
        try:
            history = search.history
            if history.unfinished() or search.rounds_to_come():
                left = search.strategy.planned(history) - len(history.by_trial)
                raise RunError(
                    f"{store.path}: {left} of its planned trials have not run yet; finish it "
                    f"first: hpsearch resume {shown(store.path)}"
                )
            if len(history.rounds) != self.round and said is None:
                raise RunError(
                    f"{store.path}: it has {len(history.rounds)} rounds now, not the "
                    f"{self.round} this zoom was planned from; plan it again (hpsearch.plan_zoom)"
                )
            from hpsearch.runner import require_run

            checked = search.config.with_overrides(
                jobs=self.jobs,
                backend=self.backend,
                scheduler=self.scheduler,
                cluster=self.cluster,
                scheduler_file=self.scheduler_file,
            )
            require_run(checked.run)
        except BaseException:
            search.release()
            raise
        return SearchSession(
            search,
            jobs=self.jobs,
            backend=self.backend,
            scheduler=self.scheduler,
            cluster=self.cluster,
            scheduler_file=None if self.scheduler_file is None else str(self.scheduler_file),
            notices=[*notices, *self.notices],
            asked=self.proposal,
        )


@checked_arguments(trials=ZOOM_TRIALS)
def plan_zoom(
    run: RunLike,
    *,
    runs_dir: str | Path | None = None,
    top: int | None = None,
    top_fraction: float | None = None,
    margin: float | None = None,
    trials: int | None = None,
    jobs: int | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
    scheduler_file: str | Path | None = None,
    cluster: str | None = None,
) -> ZoomPlan:
    """The search's next round, narrowed inside its newest round's region around the best
    trials there (the course's zoom); nothing is run or written yet."""
    from hpsearch.strategies import Done, ZoomStrategy

    if top is not None and top_fraction is not None:
        raise UserError("--top: give --top or --top-fraction, not both")
    # Read afresh: a Run read before an earlier zoom would plan that round again.
    source = load_search(run.path if isinstance(run, Run) else run, runs_dir)
    if source.kind == "retest":
        raise RunError(
            f"{source.path}: a re-test is not a search to zoom into; zoom the run it re-tested"
        )
    if not len(source.config.space):
        raise RunError(
            f"{source.path}: nothing to narrow: its space is empty (every parameter is fixed)"
        )
    history = source.history
    try:
        proposal = ZoomStrategy(source.config).propose(
            history, top=top, top_fraction=top_fraction, margin=margin, trials=trials
        )
    except Done as reason:
        if "no ok trial" in str(reason):
            raise NoOkTrial(f"{source.path}: {reason}") from None
        raise RunError(f"{source.path}: {reason}") from None
    notices = []
    anchors = [history.by_trial[i] for i in proposal.anchors]
    if top is not None and len(anchors) < top:
        notices.append(
            Notice(
                f"warning: only {len(anchors)} ok trials in its newest region, fewer than --top "
                f"{top}: zooming on those",
                warning=True,
            )
        )
    number = len(history.rounds)
    return ZoomPlan(
        source,
        proposal,
        number,
        anchors,
        _standalone(source.config, proposal),
        runs_dir,
        jobs,
        backend,
        scheduler,
        notices,
        cluster,
        None if scheduler_file is None else str(scheduler_file),
    )


def _standalone(config: Config, proposal: Proposal) -> Config:
    """A zoom round's region as an ordinary config: its space, what it fixes under ``model``,
    its own seed (new trials), the same data."""
    import dataclasses

    return dataclasses.replace(
        config,
        seed=proposal.seed,
        data=dataclasses.replace(config.data, seed=config.data_seed),
        model={**config.model, **proposal.region.fixed},
        space=proposal.region.space,
        search=dataclasses.replace(config.search, trials=proposal.trials, budget=None),
        zoom=dataclasses.replace(config.zoom, rounds=0),
    )
