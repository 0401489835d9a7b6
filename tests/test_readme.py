"""The README's promises: CI runs its test command verbatim, and its library example runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def test_ci_runs_the_readme_test_command() -> None:
    setup = re.search(r"```sh\n(.*?)```", README, re.S)
    assert setup is not None
    commands = [line for line in setup.group(1).splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2, "the README opens with exactly two set-up commands"
    assert "kbtool prevalence data/samples/" in commands[0]
    assert commands[1] in (ROOT / ".ci" / "run").read_text()


def test_library_example_runs(tmp_path: Path) -> None:
    example = re.search(r"```python\n(.*?)```", README, re.S)
    assert example is not None
    script = tmp_path / "example.py"
    script.write_text(example.group(1))
    run = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    assert "-1.18" in run.stdout and "Metro Pusat" in run.stdout
