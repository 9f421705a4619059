"""ClipDatasetWriter: write validated clips into tar shards and a manifest, atomically per shard."""

from __future__ import annotations

import io
import json
import logging
import os
import tarfile
from collections import Counter
from pathlib import Path
from typing import Any

from egom2p_edge.clips.clip import CLIP_MODALITIES, Clip
from egom2p_edge.clips.format import (
    DATASET_FORMAT,
    FORMAT_VERSION,
    MANIFEST_NAME,
    MEMBER_PATTERN,
    PARTIAL_SUFFIX,
    SHARD_PATTERN,
    encode_clip,
)
from egom2p_edge.files import sha256_file

log = logging.getLogger(__name__)

DEFAULT_SHARD_SIZE = 1000  # clips per shard at most (WebDataset-like)
DEFAULT_MAX_SHARD_BYTES = 1 << 30  # a shard is closed once it reaches 1 GiB (~80 full clips)


def _add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = 0  # deterministic shards: same clips -> same bytes -> same sha256
    tar.addfile(info, io.BytesIO(data))


class ClipDatasetWriter:
    """Write clips into ``out_dir/name/`` (see the package docstring for the layout).

    A shard is closed after ``shard_size`` clips or once it holds ``max_shard_bytes`` bytes,
    whichever comes first. Use as a context manager: on a clean exit the manifest is written;
    if the block raises, the shard being written is deleted and no manifest is written (the
    dataset stays incomplete and ``ClipDataset`` refuses it). ``extra`` (JSON-serialisable) is
    stored in the manifest, e.g. a curation report.
    """

    def __init__(
        self,
        out_dir: str | os.PathLike,
        name: str,
        shard_size: int = DEFAULT_SHARD_SIZE,
        overwrite: bool = False,
        max_shard_bytes: int = DEFAULT_MAX_SHARD_BYTES,
        compress: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"ClipDatasetWriter: name must be a plain folder name, got {name!r}")
        if int(shard_size) < 1:
            raise ValueError(f"ClipDatasetWriter: shard_size must be >= 1, got {shard_size}")
        self.name = name
        self.path = Path(out_dir) / name
        if int(max_shard_bytes) < 1:
            raise ValueError(
                f"ClipDatasetWriter: max_shard_bytes must be >= 1, got {max_shard_bytes}"
            )
        self.shard_size = int(shard_size)
        self.max_shard_bytes = int(max_shard_bytes)
        self.compress = compress
        self.extra: dict[str, Any] = dict(extra or {})
        self._prepare_folder(overwrite)
        self._shards: list[dict[str, Any]] = []
        self._tar: tarfile.TarFile | None = None
        self._tar_file = None
        self._in_shard = 0
        self._num_clips = 0
        self._ids: set[str] = set()
        self._modality_counts: Counter[str] = Counter()
        self._source_counts: Counter[str] = Counter()
        self._licences: set[str] = set()
        self._sizes: Counter[int] = Counter()
        self._closed = False

    def _ours(self) -> list[Path]:
        return sorted(
            p
            for p in self.path.iterdir()
            if p.name == MANIFEST_NAME
            or (
                p.name.startswith("shard-")
                and (p.suffix == ".tar" or p.name.endswith(PARTIAL_SUFFIX))
            )
        )

    def _prepare_folder(self, overwrite: bool) -> None:
        if self.path.exists():
            if not self.path.is_dir():
                raise FileExistsError(f"ClipDatasetWriter: {self.path} exists and is not a folder")
            ours = self._ours()
            if ours and not overwrite:
                raise FileExistsError(
                    f"ClipDatasetWriter: {self.path} already holds a clip dataset "
                    f"({len(ours)} files); pass overwrite=True or choose another name"
                )
            for p in ours:  # only files of this format: never someone else's
                p.unlink()
        self.path.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> ClipDatasetWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    @property
    def num_clips(self) -> int:
        return self._num_clips

    def write(self, clip: Clip) -> None:
        """Validate and append one clip; a full shard is finalised (renamed) at once."""
        if self._closed:
            raise ValueError(f"ClipDatasetWriter({self.path}): write() after close()")
        clip.validate()
        if clip.clip_id in self._ids:
            raise ValueError(
                f"ClipDatasetWriter({self.path}): duplicate clip_id {clip.clip_id!r}; "
                "clip ids must be unique within a dataset"
            )
        header, npz = encode_clip(clip, compress=self.compress)
        if self._tar is None:
            self._open_shard()
        stem = MEMBER_PATTERN.format(self._num_clips)
        _add_member(self._tar, stem + ".json", header)
        _add_member(self._tar, stem + ".npz", npz)
        self._ids.add(clip.clip_id)
        self._num_clips += 1
        self._in_shard += 1
        self._modality_counts.update(clip.modalities)
        self._source_counts[clip.source] += 1
        self._licences.add(clip.licence)
        if clip.size is not None:
            self._sizes[clip.size] += 1
        if self._in_shard >= self.shard_size or self._tar_file.tell() >= self.max_shard_bytes:
            self._finish_shard()

    def _shard_paths(self) -> tuple[Path, Path]:
        final = self.path / SHARD_PATTERN.format(len(self._shards))
        return final, final.with_name(final.name + PARTIAL_SUFFIX)

    def _open_shard(self) -> None:
        _, partial = self._shard_paths()
        self._tar_file = open(partial, "wb")
        self._tar = tarfile.open(fileobj=self._tar_file, mode="w", format=tarfile.PAX_FORMAT)
        self._in_shard = 0
        self._first_index = self._num_clips

    def _finish_shard(self) -> None:
        final, partial = self._shard_paths()
        self._tar.close()
        self._tar_file.flush()
        os.fsync(self._tar_file.fileno())
        self._tar_file.close()
        self._tar = self._tar_file = None
        entry = {
            "file": final.name,
            "num_clips": self._in_shard,
            "first_index": self._first_index,
            "bytes": partial.stat().st_size,
            "sha256": sha256_file(partial),
        }
        os.replace(partial, final)  # atomic: a shard under its final name is always complete
        self._shards.append(entry)
        log.debug("wrote %s (%d clips)", final, self._in_shard)

    def manifest(self) -> dict[str, Any]:
        """The manifest as it would be written now (finished shards only)."""
        n = self._num_clips
        return {
            "format": DATASET_FORMAT,
            "version": FORMAT_VERSION,
            "name": self.name,
            "num_clips": n,
            "num_shards": len(self._shards),
            "modality_counts": {m: self._modality_counts.get(m, 0) for m in CLIP_MODALITIES},
            "modality_coverage": {
                m: (self._modality_counts.get(m, 0) / n if n else 0.0) for m in CLIP_MODALITIES
            },
            "source_counts": dict(sorted(self._source_counts.items())),
            "licences": sorted(self._licences),
            "video_sizes": {str(k): v for k, v in sorted(self._sizes.items())},
            "shards": list(self._shards),
            "extra": self.extra,
        }

    def close(self) -> Path:
        """Finish the last shard and write the manifest (atomically). Returns the dataset path."""
        if self._closed:
            return self.path
        if self._tar is not None:
            self._finish_shard()
        data = json.dumps(self.manifest(), indent=1, allow_nan=False).encode("utf-8")
        tmp = self.path / (MANIFEST_NAME + PARTIAL_SUFFIX)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path / MANIFEST_NAME)
        self._closed = True
        log.info(
            "clip dataset %s: %d clips in %d shards", self.path, self._num_clips, len(self._shards)
        )
        return self.path

    def abort(self) -> None:
        """Drop the shard in progress and write no manifest (finished shards stay on disk)."""
        if self._tar is not None:
            _, partial = self._shard_paths()
            try:
                self._tar.close()
            finally:
                self._tar_file.close()
                partial.unlink(missing_ok=True)
            self._tar = self._tar_file = None
        self._closed = True
        log.warning("clip dataset %s: write aborted, no manifest written", self.path)
