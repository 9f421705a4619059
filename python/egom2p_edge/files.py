"""File digests shared by bundles, clip datasets and token databases."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: str | Path, chunk_bytes: int = 1 << 22) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_bytes):
            h.update(chunk)
    return h.hexdigest()


def check_shard_sha256(path: Path, expected: str, owner: str, remedy: str) -> None:
    """ValueError naming ``owner`` (e.g. ``ClipDataset /data``), the shard and both digests when
    the shard's sha256 is not the manifest's; ``remedy`` says what to do."""
    digest = sha256_file(path)
    if digest != expected:
        raise ValueError(
            f"{owner}: shard {path.name} sha256 {digest} != manifest {expected} ({remedy})"
        )
