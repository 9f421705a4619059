"""Where the SDK finds shared test fixtures and real recordings (never shipped with the SDK)."""

from __future__ import annotations

import os
from pathlib import Path

SHARED_ENV = "EGOM2P_SHARED_DIR"


def shared_dir() -> Path | None:
    """The shared folder with fixtures: ``$EGOM2P_SHARED_DIR`` or ``../shared`` from the repository.

    Returns None when neither exists (a user's fresh clone has no shared folder).
    """
    env = os.environ.get(SHARED_ENV)
    if env:
        p = Path(env)
        return p if p.is_dir() else None
    repo_root = Path(__file__).resolve().parents[2]  # python/egom2p_edge/paths.py -> repo
    for candidate in (repo_root.parent / "shared", Path.cwd().parent / "shared"):
        if candidate.is_dir():
            return candidate
    return None


def shared_path(*parts: str) -> Path | None:
    """A path inside the shared folder, or None if the shared folder or that path is absent."""
    root = shared_dir()
    if root is None:
        return None
    p = root.joinpath(*parts)
    return p if p.exists() else None
