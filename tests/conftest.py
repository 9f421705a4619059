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
        pytest.skip(
            "../shared/fixtures/parity is absent (set EGOM2P_SHARED_DIR to run parity tests)"
        )
    return p


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """../shared/fixtures/real (skips the test when absent)."""
    p = shared_path("fixtures", "real")
    if p is None:
        pytest.skip(
            "../shared/fixtures/real is absent (set EGOM2P_SHARED_DIR to run real-data tests)"
        )
    return p


@pytest.fixture(scope="session")
def metrics_fixture_dir() -> Path:
    """../shared/fixtures/metrics (skips the test when absent)."""
    p = shared_path("fixtures", "metrics")
    if p is None:
        pytest.skip("../shared/fixtures/metrics is absent (set EGOM2P_SHARED_DIR)")
    return p


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread while a module runs: small models run several times faster single-
    threaded on a shared 2-core machine (OpenMP workers spin while waiting for CPU time), and
    the backbone parity fixtures were made with one thread. Use with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _has_cuda() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001
        return False


def _has_tensorrt() -> bool:
    try:
        import tensorrt  # noqa: F401

        return True
    except Exception:  # noqa: BLE001
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip marked tests with a reason where their resource is absent."""
    real_absent = shared_path("fixtures", "real") is None
    cuda = trt = None
    for item in items:
        if real_absent and item.get_closest_marker("real_data"):
            item.add_marker(
                pytest.mark.skip(reason="../shared/fixtures/real is absent (set EGOM2P_SHARED_DIR)")
            )
        if item.get_closest_marker("gpu"):
            cuda = _has_cuda() if cuda is None else cuda
            if not cuda:
                item.add_marker(pytest.mark.skip(reason="no CUDA GPU on this machine"))
        if item.get_closest_marker("trt"):
            trt = _has_tensorrt() if trt is None else trt
            if not trt:
                item.add_marker(pytest.mark.skip(reason="TensorRT is not installed here"))
