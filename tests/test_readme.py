"""The README's two commands are the ones CI and users run."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_COMMAND = 'pip install ".[test]" && python -m pytest'


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert TEST_COMMAND in readme
    assert TEST_COMMAND in ci.splitlines()


def test_readme_main_command_names_an_existing_config():
    readme = (ROOT / "README.md").read_text()
    assert "pip install . && hpsearch " in readme
    assert (ROOT / "configs" / "quickstart.yaml").exists()


@pytest.mark.slow
def test_readme_figures_come_from_the_code(tmp_path):
    """The quickstart's output and its re-test, as the README shows them, are what this code
    prints (results are deterministic: the same config and seed give the same trials)."""
    import json
    import re
    import shutil

    from .helpers import invoke

    readme = (ROOT / "README.md").read_text()
    config = tmp_path / "quickstart.yaml"
    shutil.copy(ROOT / "configs" / "quickstart.yaml", config)
    runs = str(tmp_path / "runs")
    result = invoke("run", str(config), "--runs-dir", runs)
    assert result.exit_code == 0, result.output
    printed = {line.strip() for line in result.stdout.splitlines()}
    block = readme[readme.index("top 10 of 40 trials (40 ok)") :].split("```")[0]
    shown = [line.strip() for line in block.splitlines() if re.match(r"^\s+\d+\s+\d+\s", line)]
    assert len(shown) >= 3
    for line in shown:
        assert line in printed, line
    best = next(line for line in block.splitlines() if line.startswith("best: "))
    assert best in printed

    retest = invoke("retest", "latest", "--runs-dir", runs, "--top", "3", "--seeds", "5", "--json")
    assert retest.exit_code == 0, retest.output
    winner = json.loads(retest.stdout)["retest"]["winners"][0]
    claim = re.search(
        r"trial (\d+)\s+\((\d\.\d{4})\) re-tests at (\d\.\d{4}) ± (\d\.\d{4}) and drops to (\w+)",
        " ".join(readme.split()),
    )
    assert claim, "the README states the quickstart's re-test"
    trial, original, mean, std, place = claim.groups()
    assert (int(trial), f"{winner['original']:.4f}") == (winner["trial"], original)
    assert (f"{winner['mean']:.4f}", f"{winner['std']:.4f}") == (mean, std)
    assert ["first", "second", "third"][winner["new_rank"] - 1] == place


@pytest.mark.slow
@pytest.mark.parametrize("required", [False, True], ids=["plain-machine", "ci"])
def test_without_chromium_the_browser_test_is_skipped_with_its_reason_unless_ci(required):
    """The README's test command passes with only Python and pip: without Chromium the browser
    test says why it is skipped. CI sets HPSEARCH_REQUIRE_BROWSER=1, which makes it a failure."""
    import os
    import subprocess
    import sys

    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("HPSEARCH_NO_BROWSER", "HPSEARCH_REQUIRE_BROWSER", "PYTEST_ADDOPTS")
    }
    env["PATH"] = str(Path(sys.executable).parent)  # the venv's programs: no chromium there
    if required:
        env["HPSEARCH_REQUIRE_BROWSER"] = "1"
    test = "tests/test_html_report.py::test_the_report_in_a_real_browser"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", test, "-p", "no:cacheprovider", "-rsf", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if required:
        assert result.returncode == 1, result.stdout
        assert "HPSEARCH_REQUIRE_BROWSER is set" in result.stdout
    else:
        assert result.returncode == 0, result.stdout
        assert "1 skipped" in result.stdout
        assert "needs Chromium and ChromeDriver" in result.stdout
