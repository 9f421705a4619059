"""ClipDataset: read a dataset's manifest, verify its shards, stream clips shard by shard."""

from __future__ import annotations

import json
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from egom2p_edge.clips.clip import Clip
from egom2p_edge.clips.format import (
    DATASET_FORMAT,
    FORMAT_VERSION,
    MANIFEST_NAME,
    MEMBER_PATTERN,
    decode_clip,
)
from egom2p_edge.files import (
    check_shard_file,
    check_shard_index,
    check_shard_sha256,
    locate_in_shards,
)

_REQUIRED_SHARD_KEYS = ("file", "num_clips", "first_index", "bytes", "sha256")


def _find_manifest(path: Path) -> Path:
    if path.is_file():
        return path
    if not path.exists():
        raise FileNotFoundError(f"ClipDataset: {path} does not exist")
    manifest = path / MANIFEST_NAME
    if manifest.is_file():
        return manifest
    inner = sorted(p.parent.name for p in path.glob(f"*/{MANIFEST_NAME}"))
    hint = f"; datasets inside it: {inner}" if inner else ""
    partial = any(path.glob("shard-*"))
    why = " (shards but no manifest: the write was interrupted; write it again)" if partial else ""
    raise FileNotFoundError(f"ClipDataset: no {MANIFEST_NAME} in {path}{why}{hint}")


class ClipDataset:
    """A clip dataset written by ``ClipDatasetWriter``.

    ``path`` is the dataset folder or its manifest. Opening checks the manifest and that every
    shard exists with its recorded size; with ``verify_sha256`` (default) each shard's sha256 is
    checked once, the first time that shard is read. Iteration streams one shard at a time.
    """

    def __init__(self, path: str | os.PathLike, verify_sha256: bool = True) -> None:
        self.manifest_path = _find_manifest(Path(path))
        self.path = self.manifest_path.parent
        self.verify_sha256 = verify_sha256
        self._verified: set[int] = set()
        self._member_index: dict[int, dict[str, tarfile.TarInfo]] = {}
        self.manifest = self._load_manifest()
        self.shards: list[dict[str, Any]] = self.manifest["shards"]
        self._starts = [s["first_index"] for s in self.shards]
        self._check_shard_files()

    def _load_manifest(self) -> dict[str, Any]:
        where = str(self.manifest_path)
        try:
            m = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{where}: manifest is not valid JSON ({exc})") from None
        if not isinstance(m, dict) or m.get("format") != DATASET_FORMAT:
            raise ValueError(
                f"{where}: expected format {DATASET_FORMAT!r}, found "
                f"{m.get('format') if isinstance(m, dict) else type(m).__name__!r}"
            )
        if m.get("version") != FORMAT_VERSION:
            raise ValueError(
                f"{where}: expected version {FORMAT_VERSION}, found "
                f"{m.get('version')!r}; re-create the dataset with this SDK version"
            )
        shards = m.get("shards")
        if not isinstance(shards, list):
            raise ValueError(f"{where}: field 'shards' must be a list")
        expect_start = check_shard_index(shards, "num_clips", _REQUIRED_SHARD_KEYS, where)
        if m.get("num_clips") != expect_start:
            raise ValueError(
                f"{where}: num_clips {m.get('num_clips')} != sum of shard counts {expect_start}"
            )
        return m

    def _check_shard_files(self) -> None:
        for s in self.shards:
            check_shard_file(self.path / s["file"], s["bytes"], f"ClipDataset {self.path}")

    def __len__(self) -> int:
        return int(self.manifest["num_clips"])

    @property
    def modality_counts(self) -> dict[str, int]:
        return dict(self.manifest["modality_counts"])

    def _verify(self, shard: int) -> Path:
        s = self.shards[shard]
        p = self.path / s["file"]
        if self.verify_sha256 and shard not in self._verified:
            owner = f"ClipDataset {self.path}"
            check_shard_sha256(p, s["sha256"], owner, "corrupted; re-create the dataset")
            self._verified.add(shard)
        return p

    def iter_shard(self, shard: int) -> Iterator[Clip]:
        """The clips of one shard, in order (read from the tar as a stream)."""
        s = self.shards[shard]
        p = self._verify(shard)
        count = 0
        pending: dict[str, bytes] = {}
        with tarfile.open(p, mode="r|") as tar:
            for info in tar:
                data = tar.extractfile(info).read()
                stem, _, ext = info.name.rpartition(".")
                pending[ext] = data
                if "json" in pending and "npz" in pending:
                    where = f"{p}:{stem}"
                    yield decode_clip(pending.pop("json"), pending.pop("npz"), where)
                    count += 1
        if count != s["num_clips"] or pending:
            raise ValueError(
                f"ClipDataset {self.path}: shard {s['file']} holds {count} clips, "
                f"the manifest says {s['num_clips']}"
            )

    def __iter__(self) -> Iterator[Clip]:
        for i in range(len(self.shards)):
            yield from self.iter_shard(i)

    def __getitem__(self, index: int) -> Clip:
        """Random access (reads the shard's tar headers once, then seeks)."""
        shard, row = locate_in_shards(self._starts, index, len(self), "ClipDataset", "clips")
        index = self._starts[shard] + row  # negative indices count from the end
        p = self._verify(shard)
        if shard not in self._member_index:
            with tarfile.open(p, mode="r:") as tar:
                self._member_index[shard] = {m.name: m for m in tar.getmembers()}
        members = self._member_index[shard]
        stem = MEMBER_PATTERN.format(index)
        parts = []
        with open(p, "rb") as f:
            for ext in ("json", "npz"):
                info = members.get(f"{stem}.{ext}")
                if info is None:
                    raise ValueError(
                        f"ClipDataset {self.path}: member {stem}.{ext} missing in {p.name}"
                    )
                f.seek(info.offset_data)
                parts.append(f.read(info.size))
        return decode_clip(parts[0], parts[1], f"{p}:{stem}")
