"""Shared test fixtures: where the WHO reference copies and ../shared live."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).parent
WHO_DATA = TESTS / "data" / "who"
SHARED_WHO = TESTS.parent.parent / "shared" / "who-reference"


@pytest.fixture
def shared_who() -> Path:
    """../shared/who-reference when present (CI has it, a user's clone does not)."""
    if not (SHARED_WHO / "zscore_inputs.csv").exists():
        pytest.skip("../shared/who-reference is not present")
    return SHARED_WHO
