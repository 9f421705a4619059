"""TokenDatabase: open a token database, verify its shards, read samples by index."""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from egom2p_edge.files import check_shard_file, check_shard_sha256, locate_in_shards
from egom2p_edge.training.tokens.format import (
    MANIFEST_NAME,
    ROWS_SUFFIX,
    TRUTH_FIELDS,
    bits_to_names,
    check_manifest,
    decode_shard,
)


@dataclass(frozen=True)
class ModalityInfo:
    """One modality of a database: vocabulary, token layout, number of samples having it."""

    vocab_size: int
    token_shape: tuple[int, ...]
    count: int

    @property
    def num_tokens(self) -> int:
        return int(np.prod(self.token_shape))


@dataclass
class TokenSample:
    """One sample. tokens[name]: ids (*token_shape) int32 for the present modalities only;
    truth: ``T_first_camera`` (60, 4, 4), ``gaze_xy_norm`` (60, 2), ``gaze_valid`` (60,) when
    stored."""

    index: int
    clip_index: int
    clip_id: str
    tokens: dict[str, np.ndarray]
    truth: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def modalities(self) -> tuple[str, ...]:
        return tuple(self.tokens)


def is_token_database(path: str | os.PathLike) -> bool:
    """True when ``path`` is a folder whose manifest says it is a token database."""
    m = Path(path) / MANIFEST_NAME
    if not m.is_file():
        return False
    try:
        return json.loads(m.read_text(encoding="utf-8")).get("format") == "egom2p-token-db"
    except (OSError, ValueError, AttributeError):
        return False


class TokenDatabase:
    """A token database written by ``TokenDatabaseWriter`` (or ``build_token_database``).

    Opening checks the manifest and every shard's size; with ``verify_sha256`` each shard's
    sha256 is checked the first time it is read. ``cache_shards`` shards stay decoded in memory
    (samples are read shard-locally by the training sampler, so two are plenty).
    """

    def __init__(
        self, path: str | os.PathLike, verify_sha256: bool = True, cache_shards: int = 2
    ) -> None:
        self.path = Path(path)
        manifest = self.path / MANIFEST_NAME
        if not manifest.is_file():
            partial = any(self.path.glob("tokens-*"))
            why = " (shards but no manifest: the write was interrupted)" if partial else ""
            raise FileNotFoundError(
                f"TokenDatabase: no {MANIFEST_NAME} in {self.path}{why}; build one with "
                f"`egom2p train --what tokens --data CLIPS --tokenizers ... --out DIR`"
            )
        try:
            raw = json.loads(manifest.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{manifest}: manifest is not valid JSON ({exc})") from None
        self.manifest = check_manifest(raw, str(manifest))
        self.order: list[str] = list(self.manifest["presence_order"])
        self.modalities = {
            n: ModalityInfo(int(i["vocab_size"]), tuple(i["token_shape"]), int(i.get("count", 0)))
            for n, i in self.manifest["modalities"].items()
        }
        self.shards: list[dict[str, Any]] = self.manifest["shards"]
        self._starts = [s["first_index"] for s in self.shards]
        self.verify_sha256 = verify_sha256
        self.cache_shards = max(1, int(cache_shards))
        self._verified: set[int] = set()
        self._cache: OrderedDict[int, dict[str, Any]] = OrderedDict()
        for s in self.shards:
            check_shard_file(self.path / s["file"], s["bytes"], f"TokenDatabase {self.path}")

    def __len__(self) -> int:
        return int(self.manifest["num_samples"])

    @property
    def shard_sizes(self) -> list[int]:
        """Samples per shard, in order (for shard-local shuffling)."""
        return [int(s["num_samples"]) for s in self.shards]

    def presence(self, index: int) -> tuple[str, ...]:
        """The modalities sample ``index`` has (from the manifest; no shard is read)."""
        shard, row = self._locate(index)
        return bits_to_names(int(self.shards[shard]["presence"][row]), self.order)

    def _locate(self, index: int) -> tuple[int, int]:
        return locate_in_shards(self._starts, index, len(self), "TokenDatabase", "samples")

    def _load(self, shard: int) -> dict[str, Any]:
        if shard in self._cache:
            self._cache.move_to_end(shard)
            return self._cache[shard]
        s = self.shards[shard]
        p = self.path / s["file"]
        if self.verify_sha256 and shard not in self._verified:
            owner = f"TokenDatabase {self.path}"
            check_shard_sha256(p, s["sha256"], owner, "corrupted; re-create the database")
            self._verified.add(shard)
        arrays = decode_shard(str(p), str(p))
        n = int(s["num_samples"])
        if arrays.get("clip_index", np.empty(0)).shape != (n,):
            raise ValueError(f"{p}: expected {n} samples, clip_index says otherwise")
        lookup: dict[str, dict[int, int]] = {}
        for name in self.order:
            rows = arrays.get(name + ROWS_SUFFIX)
            lookup[name] = {} if rows is None else {int(r): k for k, r in enumerate(rows)}
            if rows is not None and arrays[name].shape[1:] != self.modalities[name].token_shape:
                raise ValueError(
                    f"{p}: {name} has token shape {arrays[name].shape[1:]}, the manifest says "
                    f"{self.modalities[name].token_shape}"
                )
        entry = {"arrays": arrays, "lookup": lookup}
        self._cache[shard] = entry
        while len(self._cache) > self.cache_shards:
            self._cache.popitem(last=False)
        return entry

    def __getitem__(self, index: int) -> TokenSample:
        shard, row = self._locate(index)
        entry = self._load(shard)
        arrays, lookup = entry["arrays"], entry["lookup"]
        tokens, truth = {}, {}
        for name in self.order:
            k = lookup[name].get(row)
            if k is None:
                continue
            tokens[name] = arrays[name][k]
            for f in TRUTH_FIELDS.get(name, ()):
                if f"truth.{f}" in arrays:
                    truth[f] = arrays[f"truth.{f}"][k]
        return TokenSample(
            index=self._starts[shard] + row,
            clip_index=int(arrays["clip_index"][row]),
            clip_id=str(arrays["clip_id"][row]),
            tokens=tokens,
            truth=truth,
        )

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]
