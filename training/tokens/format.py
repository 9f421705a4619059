"""The token database on-disk format (version 1): constants, shard encoding, manifest checks.

Layout::

    <db>/
        manifest.json            written last, atomically (temp file + rename)
        tokens-000000.npz        numpy savez (no pickled objects), complete when under this name
        ...

A shard holds up to ``shard_size`` samples (one sample = one clip). Its members:

* ``clip_index`` (n,) int64: the clip's index in the source clip dataset; ``clip_id`` (n,) str.
* per modality present in at least one sample of the shard: ``<name>`` (k, *token_shape) int32
  token ids and ``<name>.rows`` (k,) int64, the rows (0..n-1, increasing) that have it. A sample
  without the modality has no row: missing modalities are absent, never zero-filled.
* ground truth for evaluation, when the tokens were made from it: ``truth.T_first_camera``
  (k, 60, 4, 4) float64 on the rows of ``tok_cam``; ``truth.gaze_xy_norm`` (k, 60, 2) float64 and
  ``truth.gaze_valid`` (k, 60) bool on the rows of ``tok_gaze``.

``manifest.json``: ``format`` = "egom2p-token-db", ``version``, ``num_samples``, ``modalities``
(name -> ``vocab_size``, ``token_shape``, ``count``), ``presence_order`` (the modality names in
bit order), ``tokenizers`` (name -> where the ids came from), ``source`` (the clip dataset),
``video_size``, ``depth_encoding``, ``shards`` (``file``, ``num_samples``, ``first_index``,
``bytes``, ``sha256``, ``presence``: one int per sample, bit i set when the sample has modality
``presence_order[i]``) and ``extra``.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from egom2p_edge.files import check_shard_index

DB_FORMAT = "egom2p-token-db"
DB_VERSION = 1
MANIFEST_NAME = "manifest.json"
SHARD_PATTERN = "tokens-{:06d}.npz"
PARTIAL_SUFFIX = ".partial"
ROWS_SUFFIX = ".rows"
TRUTH_FIELDS = {
    "tok_cam": ("T_first_camera",),
    "tok_gaze": ("gaze_xy_norm", "gaze_valid"),
}
TOKEN_DTYPE = np.int32  # ids up to 64,000 (video) need more than int16
DEPTH_ENCODING = "depth_inv_norm (per-clip normalised inverse depth) -> rint(x*255) uint8 grey x3"


def presence_bits(present: list[str] | tuple[str, ...], order: list[str]) -> int:
    """Bitmask of the modalities ``present`` in ``order``."""
    return sum(1 << i for i, n in enumerate(order) if n in present)


def bits_to_names(bits: int, order: list[str]) -> tuple[str, ...]:
    """Inverse of ``presence_bits``, in ``order``."""
    return tuple(n for i, n in enumerate(order) if bits >> i & 1)


def encode_shard(
    clip_index: list[int],
    clip_id: list[str],
    tokens: dict[str, list[tuple[int, np.ndarray]]],
    truth: dict[str, list[tuple[int, np.ndarray]]],
) -> bytes:
    """The npz bytes of one shard.

    tokens[name] and truth[field]: (row, array) pairs in increasing row order.
    """
    arrays: dict[str, np.ndarray] = {
        "clip_index": np.asarray(clip_index, dtype=np.int64),
        "clip_id": np.asarray(clip_id, dtype=str),
    }
    for name, rows in tokens.items():
        if rows:
            arrays[name] = np.stack([a for _, a in rows]).astype(TOKEN_DTYPE)  # (k, *shape)
            arrays[name + ROWS_SUFFIX] = np.asarray([r for r, _ in rows], dtype=np.int64)
    for field, rows in truth.items():
        if rows:
            arrays[f"truth.{field}"] = np.stack([a for _, a in rows])  # (k, ...)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def decode_shard(data: bytes | str, where: str) -> dict[str, np.ndarray]:
    """All arrays of a shard (file path or bytes); ValueError naming ``where`` if unreadable."""
    try:
        src = io.BytesIO(data) if isinstance(data, bytes) else data
        with np.load(src, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise ValueError(
            f"{where}: not a readable token shard ({exc}); re-create the database"
        ) from None


def check_manifest(m: Any, where: str) -> dict[str, Any]:
    """Validate a parsed manifest; ValueError naming the file and the bad field."""
    if not isinstance(m, dict) or m.get("format") != DB_FORMAT:
        found = m.get("format") if isinstance(m, dict) else type(m).__name__
        raise ValueError(f"{where}: expected format {DB_FORMAT!r}, found {found!r}")
    if m.get("version") != DB_VERSION:
        raise ValueError(
            f"{where}: expected version {DB_VERSION}, found {m.get('version')!r}; re-create the "
            f"token database with this SDK version"
        )
    for field, typ in (
        ("modalities", dict),
        ("presence_order", list),
        ("shards", list),
        ("num_samples", int),
    ):
        if not isinstance(m.get(field), typ):
            raise ValueError(
                f"{where}: field {field!r} must be a {typ.__name__}, found "
                f"{type(m.get(field)).__name__}"
            )
    for name, info in m["modalities"].items():
        if name not in m["presence_order"]:
            raise ValueError(f"{where}: modality {name!r} is missing from presence_order")
        if not isinstance(info, dict) or not {"vocab_size", "token_shape"} <= set(info):
            raise ValueError(f"{where}: modalities[{name!r}] needs vocab_size and token_shape")
    need = ("file", "num_samples", "first_index", "bytes", "sha256", "presence")
    expect = check_shard_index(m["shards"], "num_samples", need, where)
    for i, s in enumerate(m["shards"]):
        if len(s["presence"]) != s["num_samples"]:
            raise ValueError(
                f"{where}: shards[{i}] has {len(s['presence'])} presence entries for "
                f"{s['num_samples']} samples"
            )
    if m["num_samples"] != expect:
        raise ValueError(f"{where}: num_samples {m['num_samples']} != sum of shard counts {expect}")
    return m
