"""docs/report.png: the report of the quickstart's `--budget 40` search, as headless Chromium
shows it (the summary, leaderboard, optimisation history and the metric against each
parameter), 1,200 px wide.

    python bench/report_screenshot.py [--out docs/report.png] [--height 1900]

Needs Chromium and ChromeDriver (Debian's chromium and chromium-driver), selenium and Pillow
(`pip install ".[test]"`).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report.png")
    parser.add_argument("--height", type=int, default=1900)
    args = parser.parse_args()
    from PIL import Image
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        subprocess.run(
            [sys.executable, "-m", "hpsearch", "run", str(ROOT / "configs" / "quickstart.yaml"),
             "--budget", "40", "--runs-dir", str(runs), "--report", "--quiet"],
            check=True,
        )  # fmt: skip
        (page,) = runs.glob("*/report.html")
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"):
            options.add_argument(argument)
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
        try:
            driver.set_window_size(1200, args.height)
            driver.get(page.as_uri())
            shot = Path(tmp) / "shot.png"
            driver.save_screenshot(str(shot))
        finally:
            driver.quit()
        image = Image.open(shot).convert("RGB")
        image.crop((0, 0, 1200, min(args.height, image.height))).save(args.out, optimize=True)
    print(f"{args.out}: {args.out.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
