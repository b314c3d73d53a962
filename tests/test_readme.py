"""The README's two commands are the ones CI and users run."""

from pathlib import Path

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
