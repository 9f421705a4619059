"""On-disk encoding of one clip (a JSON header + an uncompressed .npz) and format constants."""

from __future__ import annotations

import io
import json

import numpy as np

from egom2p_edge.clips.clip import Clip

CLIP_FORMAT = "egom2p-clip"
DATASET_FORMAT = "egom2p-clip-dataset"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
SHARD_PATTERN = "shard-{:06d}.tar"
PARTIAL_SUFFIX = ".partial"
MEMBER_PATTERN = "{:09d}"  # tar member stem: the clip's index in the dataset

ARRAY_FIELDS = (
    "rgb",
    "rgb_timestamps_ns",
    "depth_m",
    "depth_inv_norm",
    "depth_valid",
    "gaze_xy_norm",
    "gaze_valid",
    "gaze_timestamps_ns",
    "T_first_camera",
    "camera_timestamps_ns",
)


def encode_clip(clip: Clip, compress: bool = False) -> tuple[bytes, bytes]:
    """(header JSON bytes, npz bytes) of a validated clip. Only present arrays are stored."""
    arrays = {k: getattr(clip, k) for k in ARRAY_FIELDS if getattr(clip, k) is not None}
    header = {
        "format": CLIP_FORMAT,
        "version": FORMAT_VERSION,
        "clip_id": clip.clip_id,
        "source": clip.source,
        "licence": clip.licence,
        "modalities": list(clip.modalities),
        "arrays": sorted(arrays),
        "meta": clip.meta,
    }
    buf = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(buf, **arrays)
    return json.dumps(header, allow_nan=False, sort_keys=True).encode("utf-8"), buf.getvalue()


def decode_clip(header_bytes: bytes, npz_bytes: bytes, where: str) -> Clip:
    """The clip stored as (header, npz); ``where`` names the shard and member for errors."""
    try:
        header = json.loads(header_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{where}: clip header is not valid JSON ({exc})") from None
    if header.get("format") != CLIP_FORMAT or header.get("version") != FORMAT_VERSION:
        raise ValueError(
            f"{where}: expected a clip header with format {CLIP_FORMAT!r} version "
            f"{FORMAT_VERSION}, found format {header.get('format')!r} version "
            f"{header.get('version')!r}; re-create the dataset with this SDK version"
        )
    try:
        with np.load(io.BytesIO(npz_bytes), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError) as exc:
        raise ValueError(f"{where}: clip arrays are not a readable .npz ({exc})") from None
    unknown = set(arrays) - set(ARRAY_FIELDS)
    if unknown or sorted(arrays) != header.get("arrays"):
        raise ValueError(
            f"{where}: arrays {sorted(arrays)} do not match the header's {header.get('arrays')}"
        )
    clip = Clip(
        clip_id=header["clip_id"],
        source=header["source"],
        licence=header["licence"],
        meta=header.get("meta", {}),
        **arrays,
    )
    try:
        return clip.validate()
    except ValueError as exc:
        raise ValueError(f"{where}: stored clip is invalid: {exc}") from None
