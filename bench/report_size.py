"""The HTML report at any size: its bytes, the time to write it, the time Chromium takes to
load it and to sort the leaderboard on a click.

    python bench/report_size.py [--trials 1000 5000 50000] [--params 500]

Runs of a Python objective, sequential backend, in a temporary directory: ``--trials`` over
four parameters (linear, log, choice, 1 − β); ``--params N``: 300 trials over N linear
parameters. The load time is the navigation's loadEventEnd in headless Chromium (Selenium
with the system's chromium and chromedriver), the median of 3 loads; the sort time is a click
on the metric's column header until the rows are re-laid out (median of 3 clicks). Targets
(issue 25): at 50,000 trials and at 500 parameters, at most 5 MB, 2 s to load, 200 ms a sort.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

OBJECTIVE = (
    "def objective(params, seed):\n"
    "    return {'loss': (params['a'] - 0.2) ** 2 + params['b'] * 1e-3}\n"
)
WIDE = (
    "def objective(params, seed):\n"
    "    return {'loss': sum((v - 0.3) ** 2 for k, v in sorted(params.items())[:5])}\n"
)
TARGET_MB, TARGET_LOAD_MS, TARGET_SORT_MS = 5.0, 2000, 200


def make_run(tmp: Path, trials: int, params: int = 0):
    """A finished run of ``trials`` trials (over ``params`` linear parameters if given)."""
    import hpsearch
    from hpsearch import yamlio

    (tmp / "big.py").write_text(WIDE if params else OBJECTIVE)
    space = (
        {f"p{i:03d}": {"scale": "linear", "min": 0.0, "max": 1.0} for i in range(params)}
        if params
        else {
            "a": {"scale": "linear", "min": 0.0, "max": 1.0},
            "b": {"scale": "log", "min": 1e-3, "max": 1.0},
            "c": {"choice": ["x", "y", "z"]},
            "d": {"scale": "one_minus_log", "min": 0.9, "max": 0.999},
        }
    )
    doc = {
        "name": "big",
        "objective": {"python": "big:objective", "workdir": str(tmp)},
        "space": space,
        "search": {"trials": trials, "metric": "loss", "direction": "minimize"},
        "run": {"backend": "sequential", "runs_dir": str(tmp / "runs")},
    }
    (tmp / "big.yaml").write_text(yamlio.dump(doc))
    return hpsearch.run(tmp / "big.yaml", quiet=True)


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def load_ms(driver, path: Path) -> float:
    driver.get(path.as_uri())
    loaded = 0
    while not loaded:  # set just after the load event
        loaded = driver.execute_script(
            "return performance.getEntriesByType('navigation')[0].loadEventEnd"
        )
    return float(loaded)


SORT = """
var th=document.querySelectorAll('#leaderboard thead th')[arguments[0]];
var t=performance.now();th.click();document.body.offsetHeight;
return performance.now()-t;
"""


def measure(driver, name: str, run) -> tuple[str, float, float, float, float]:
    started = time.perf_counter()
    path = run.report()
    written = time.perf_counter() - started
    loads = [load_ms(driver, path) for _ in range(3)]
    sorts = [driver.execute_script(SORT, 3) for _ in range(3)]  # the metric's column
    return (
        name,
        path.stat().st_size / 1e6,
        written,
        statistics.median(loads),
        statistics.median(sorts),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, nargs="*", default=[1000, 5000, 50000])
    parser.add_argument("--params", type=int, nargs="*", default=[500])
    args = parser.parse_args()
    driver = browser()
    rows = []
    try:
        cases = [(f"{t:,} trials × 4 params", t, 0) for t in args.trials]
        cases += [(f"300 trials × {p} params", 300, p) for p in args.params]
        for name, trials, params in cases:
            with tempfile.TemporaryDirectory() as tmp:
                started = time.perf_counter()
                run = make_run(Path(tmp), trials, params)
                print(f"# {name}: the run took {time.perf_counter() - started:.0f} s", flush=True)
                rows.append(measure(driver, name, run))
    finally:
        driver.quit()
    print("| run | report.html | write s | Chromium load ms | sort ms | targets |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for name, mb, written, load, sort in rows:
        met = mb <= TARGET_MB and load <= TARGET_LOAD_MS and sort <= TARGET_SORT_MS
        print(
            f"| {name} | {mb:.2f} MB | {written:.2f} | {load:,.0f} | {sort:.0f} | "
            f"{'met' if met else 'MISSED'} |"
        )
    print(
        f"\ntargets: ≤ {TARGET_MB:g} MB, ≤ {TARGET_LOAD_MS:,} ms to load, ≤ {TARGET_SORT_MS} ms a "
        "sort (issue 25)"
    )


if __name__ == "__main__":
    main()
