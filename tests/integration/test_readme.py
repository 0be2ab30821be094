"""The README's two set-up commands stay true: .ci/run calls the test command verbatim."""
from conftest import REPO


def _commands():
    text = (REPO / "README.md").read_text()
    blocks = [b.split("```", 1)[0].strip() for b in text.split("```bash")[1:3]]
    return blocks


def test_readme_begins_with_two_commands_and_ci_runs_the_test_command():
    main_cmd, test_cmd = _commands()
    assert "snakemake --cores 2" in main_cmd and "pip install" in main_cmd
    assert "pytest" in test_cmd
    ci = (REPO / ".ci" / "run").read_text()
    assert test_cmd in ci
