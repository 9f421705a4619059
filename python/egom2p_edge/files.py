"""File digests and shard checks shared by bundles, clip datasets and token databases."""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any


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


def check_shard_index(
    shards: list[dict[str, Any]], count_key: str, required: Sequence[str], where: str
) -> int:
    """Check a manifest's shard list: every shard has the ``required`` fields, holds at least
    one item (``count_key``) and starts (``first_index``) where the previous one ended. Raises a
    ValueError naming ``where`` and the shard; returns the total item count."""
    expect = 0
    for i, s in enumerate(shards):
        missing = [k for k in required if k not in s]
        if missing:
            raise ValueError(f"{where}: shards[{i}] lacks fields {missing}")
        if s["first_index"] != expect or s[count_key] < 1:
            raise ValueError(
                f"{where}: shards[{i}] first_index {s['first_index']} / {count_key} "
                f"{s[count_key]} inconsistent (expected first_index {expect}, {count_key} >= 1)"
            )
        expect += s[count_key]
    return expect


def check_shard_file(path: Path, expected_bytes: int, owner: str) -> None:
    """FileNotFoundError when a shard listed in ``owner``'s manifest is absent, ValueError when
    its size is not the manifest's (a truncated or replaced file)."""
    if not path.is_file():
        raise FileNotFoundError(f"{owner}: shard {path.name} listed in the manifest is missing")
    size = path.stat().st_size
    if size != expected_bytes:
        raise ValueError(
            f"{owner}: shard {path.name} has {size} bytes, the manifest says {expected_bytes} "
            "(truncated or replaced)"
        )


def locate_in_shards(
    starts: list[int], index: int, count: int, owner: str, items: str
) -> tuple[int, int]:
    """(shard, row) of item ``index`` (negative counts from the end) of ``count`` items held in
    shards whose first items are ``starts``; IndexError naming ``owner`` and ``items``."""
    if index < 0:
        index += count
    if not 0 <= index < count:
        raise IndexError(f"{owner}: index {index} out of range for {count} {items}")
    shard = bisect.bisect_right(starts, index) - 1
    return shard, index - starts[shard]
