"""The errors kbtool raises; the CLI turns each into one line on stderr and an exit code."""

from __future__ import annotations


class KbtoolError(Exception):
    """Base of every error kbtool reports to a user: a data or runtime problem (exit code 1)."""

    exit_code = 1


class InputError(KbtoolError):
    """An input file cannot be read at all: missing, wrong format, no recognisable columns."""


class StoreError(KbtoolError):
    """The measurement store is missing, locked, corrupt or of an unknown format version."""


class OutputError(KbtoolError):
    """A result could not be written where it was asked to go."""


class UsageError(KbtoolError):
    """The command line asks for something impossible (exit code 2)."""

    exit_code = 2
