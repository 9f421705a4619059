"""TokenDatabaseWriter: write token shards and the manifest of a token database, atomically."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from egom2p_edge.files import sha256_file
from egom2p_edge.training.tokens.format import (
    DB_FORMAT,
    DB_VERSION,
    MANIFEST_NAME,
    PARTIAL_SUFFIX,
    SHARD_PATTERN,
    TRUTH_FIELDS,
    encode_shard,
    presence_bits,
)

log = logging.getLogger(__name__)

DEFAULT_SHARD_SIZE = 1000  # samples per shard (ego-b video tokens: ~40 kB per sample)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + PARTIAL_SUFFIX)
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class TokenDatabaseWriter:
    """Write samples into ``path`` (see ``format.py`` for the layout).

    modalities: name -> (vocab_size, token_shape) of every modality the database may hold.
    Use as a context manager: on a clean exit the manifest is written; when the block raises no
    manifest is written and ``TokenDatabase`` refuses the folder. ``meta`` (JSON) goes into the
    manifest (``tokenizers``, ``source``, ``video_size``, ``depth_encoding``, ``extra``).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        modalities: Mapping[str, tuple[int, Sequence[int]]],
        shard_size: int = DEFAULT_SHARD_SIZE,
        overwrite: bool = False,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        if int(shard_size) < 1:
            raise ValueError(f"TokenDatabaseWriter: shard_size must be >= 1, got {shard_size}")
        if not modalities:
            raise ValueError("TokenDatabaseWriter: modalities is empty; give at least one")
        self.path = Path(path)
        if (self.path / MANIFEST_NAME).exists() and not overwrite:
            raise FileExistsError(
                f"{self.path} already holds a token database; pass overwrite=True (CLI: "
                f"--overwrite) or choose another folder"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        for old in [*self.path.glob("tokens-*.npz"), self.path / MANIFEST_NAME]:
            old.unlink(missing_ok=True)
        self.modalities = {
            n: (int(v), tuple(int(d) for d in s)) for n, (v, s) in sorted(modalities.items())
        }
        self.order = list(self.modalities)
        self.shard_size = int(shard_size)
        self.meta = dict(meta or {})
        json.dumps(self.meta)  # fail early on non-JSON metadata
        self._shards: list[dict[str, Any]] = []
        self._counts = dict.fromkeys(self.order, 0)
        self._num = 0
        self._reset_buffer()

    def _reset_buffer(self) -> None:
        self._clip_index: list[int] = []
        self._clip_id: list[str] = []
        self._tokens: dict[str, list] = {n: [] for n in self.order}
        self._truth: dict[str, list] = {f: [] for fs in TRUTH_FIELDS.values() for f in fs}
        self._presence: list[int] = []

    def add(
        self,
        clip_index: int,
        clip_id: str,
        tokens: Mapping[str, np.ndarray],
        truth: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """Add one sample. tokens[name]: ids of shape token_shape (only present modalities);
        truth: optional ``T_first_camera`` / ``gaze_xy_norm`` / ``gaze_valid`` arrays."""
        if not tokens:
            raise ValueError(f"TokenDatabaseWriter.add: clip {clip_id!r} has no tokens")
        row = len(self._clip_index)
        for name, ids in tokens.items():
            if name not in self.modalities:
                raise ValueError(
                    f"TokenDatabaseWriter.add: clip {clip_id!r} modality {name!r} is not one of "
                    f"{self.order}"
                )
            vocab, shape = self.modalities[name]
            ids = np.asarray(ids)
            if ids.shape != shape or ids.dtype.kind not in "iu":
                raise ValueError(
                    f"TokenDatabaseWriter.add: clip {clip_id!r} {name} ids must be integers of "
                    f"shape {shape}, got {ids.dtype} {ids.shape}"
                )
            if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= vocab):
                raise ValueError(
                    f"TokenDatabaseWriter.add: clip {clip_id!r} {name} ids must be in "
                    f"[0, {vocab}), got [{int(ids.min())}, {int(ids.max())}]"
                )
            self._tokens[name].append((row, ids))
            self._counts[name] += 1
            for field in TRUTH_FIELDS.get(name, ()):
                if truth is not None and field in truth:
                    self._truth[field].append((row, np.asarray(truth[field])))
        self._clip_index.append(int(clip_index))
        self._clip_id.append(str(clip_id))
        self._presence.append(presence_bits(tuple(tokens), self.order))
        self._num += 1
        if len(self._clip_index) >= self.shard_size:
            self._flush()

    def _flush(self) -> None:
        n = len(self._clip_index)
        if n == 0:
            return
        for field, rows in self._truth.items():
            owner = next(m for m, fs in TRUTH_FIELDS.items() if field in fs)
            if rows and len(rows) != len(self._tokens.get(owner, [])):
                raise ValueError(
                    f"TokenDatabaseWriter: truth {field} given for {len(rows)} samples but "
                    f"{owner} for {len(self._tokens.get(owner, []))}; give both or neither"
                )
        data = encode_shard(self._clip_index, self._clip_id, self._tokens, self._truth)
        name = SHARD_PATTERN.format(len(self._shards))
        path = self.path / name
        _write_atomic(path, data)
        self._shards.append(
            {
                "file": name,
                "num_samples": n,
                "first_index": self._num - n,
                "bytes": path.stat().st_size,
                "sha256": sha256_file(path),
                "presence": list(self._presence),
            }
        )
        log.debug("wrote %s (%d samples)", path, n)
        self._reset_buffer()

    def close(self) -> Path:
        """Write the last shard and the manifest; returns the database folder."""
        self._flush()
        if self._num == 0:
            raise ValueError(
                f"TokenDatabaseWriter: no sample was added to {self.path}; the clip dataset had "
                f"no clip with a modality the given tokenizers cover"
            )
        manifest = {
            "format": DB_FORMAT,
            "version": DB_VERSION,
            "num_samples": self._num,
            "modalities": {
                n: {"vocab_size": v, "token_shape": list(s), "count": self._counts[n]}
                for n, (v, s) in self.modalities.items()
            },
            "presence_order": self.order,
            "tokenizers": self.meta.get("tokenizers", {}),
            "source": self.meta.get("source", {}),
            "video_size": self.meta.get("video_size"),
            "depth_encoding": self.meta.get("depth_encoding"),
            "shards": self._shards,
            "extra": self.meta.get("extra", {}),
        }
        text = json.dumps(manifest, indent=1) + "\n"
        _write_atomic(self.path / MANIFEST_NAME, text.encode("utf-8"))
        return self.path

    def __enter__(self) -> TokenDatabaseWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            for p in self.path.glob("*" + PARTIAL_SUFFIX):
                p.unlink(missing_ok=True)
