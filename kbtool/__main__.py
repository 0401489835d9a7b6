"""`python -m kbtool` runs the command-line interface."""

from kbtool.cli import main

main()
