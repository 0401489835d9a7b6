"""The one place kbtool talks to the terminal: stderr for people, stdout for data only."""

from __future__ import annotations

import os
import sys

from rich.console import Console

# Progress, warnings and summaries go to stderr; rich drops colour and animation by itself when
# stderr is not a terminal, and NO_COLOR is honoured.
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def stdout_is_terminal() -> bool:
    """True when stdout is an interactive terminal (then a table preview replaces CSV)."""
    return sys.stdout.isatty()


def stderr_is_terminal() -> bool:
    """True when stderr is an interactive terminal (progress bars only then)."""
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
