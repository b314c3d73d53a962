"""The HTML report's size, the time to write it and the time Chromium takes to load it.

    python bench/report_size.py [--trials 100 1000 5000]

A Python objective over four parameters (linear, log, choice, 1 − β), sequential backend, in a
temporary directory; the load time is the navigation's loadEventEnd in headless Chromium
(Selenium with the system's chromium and chromedriver), the median of 3 loads. Target
(issue 16): 1,000 trials under 2 MB, loaded in under a second.
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


def make_run(tmp: Path, trials: int):
    import hpsearch
    from hpsearch import yamlio

    (tmp / "big.py").write_text(OBJECTIVE)
    doc = {
        "name": "big",
        "objective": {"python": "big:objective", "workdir": str(tmp)},
        "space": {
            "a": {"scale": "linear", "min": 0.0, "max": 1.0},
            "b": {"scale": "log", "min": 1e-3, "max": 1.0},
            "c": {"choice": ["x", "y", "z"]},
            "d": {"scale": "one_minus_log", "min": 0.9, "max": 0.999},
        },
        "search": {"trials": trials, "metric": "loss", "direction": "minimize"},
        "run": {"backend": "sequential", "runs_dir": str(tmp / "runs")},
    }
    (tmp / "big.yaml").write_text(yamlio.dump(doc))
    return hpsearch.run(tmp / "big.yaml")


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[100, 1000, 5000])
    args = parser.parse_args()
    driver = browser()
    print("| trials | report.html | write s | Chromium load ms |")
    print("| ---: | ---: | ---: | ---: |")
    try:
        for trials in args.trials:
            with tempfile.TemporaryDirectory() as tmp:
                run = make_run(Path(tmp), trials)
                started = time.perf_counter()
                path = run.report()
                written = time.perf_counter() - started
                loads = []
                for _ in range(3):
                    driver.get(path.as_uri())
                    loaded = 0
                    while not loaded:  # set just after the load event
                        loaded = driver.execute_script(
                            "return performance.getEntriesByType('navigation')[0].loadEventEnd"
                        )
                    loads.append(loaded)
                size = path.stat().st_size
                print(
                    f"| {trials:,} | {size / 1e6:.2f} MB | {written:.2f} | "
                    f"{statistics.median(loads):.0f} |"
                )
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
