"""Shared pytest fixtures: where the shared fixtures are, and small helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from egom2p_edge.paths import shared_path

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def parity_dir() -> Path:
    """../shared/fixtures/parity (skips the test when absent)."""
    p = shared_path("fixtures", "parity")
    if p is None:
        pytest.skip("../shared/fixtures/parity is absent (set EGOM2P_SHARED_DIR to run parity tests)")
    return p


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """../shared/fixtures/real (skips the test when absent)."""
    p = shared_path("fixtures", "real")
    if p is None:
        pytest.skip("../shared/fixtures/real is absent (set EGOM2P_SHARED_DIR to run real-data tests)")
    return p


@pytest.fixture(scope="session")
def metrics_fixture_dir() -> Path:
    """../shared/fixtures/metrics (skips the test when absent)."""
    p = shared_path("fixtures", "metrics")
    if p is None:
        pytest.skip("../shared/fixtures/metrics is absent (set EGOM2P_SHARED_DIR)")
    return p
