"""Reports of a run to share: one self-contained HTML file (``write_html``) and a GitHub
Markdown summary (``markdown``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hpsearch.errors import UserError


def write_html(run: Any, out: Path | str | None = None) -> Path:
    """Write ``run``'s HTML report atomically (default ``RUN/report.html``); returns where."""
    from hpsearch.files import atomic_write
    from hpsearch.pages.content import gather
    from hpsearch.pages.html import page

    target = Path(out) if out is not None else run.path / "report.html"
    if target.is_dir():
        target = target / f"{run.run_id}.html"
    text = page(gather(run))
    try:
        atomic_write(target, text)
    except OSError as exc:
        raise UserError(f"{target}: cannot write the report: {exc.strerror or exc}") from None
    return target


def markdown(run: Any) -> str:
    """``run``'s summary as GitHub-flavoured Markdown (for ``$GITHUB_STEP_SUMMARY``)."""
    from hpsearch.pages.content import gather
    from hpsearch.pages.gfm import render

    return render(gather(run))
