"""Reading metric inputs: .npy/.npz arrays, TUM trajectory text files, timestamp association."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Key pairs tried, in order, when an .npz holds both ground truth and estimate.
PAIR_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "camera": (
        ("gt_c2w", "est_c2w"),
        ("T_world_camera_gt", "T_world_camera_est"),
        ("gt", "est"),
    ),
    "gaze": (("gaze_gt", "gaze_est"), ("gt", "est")),
    "depth": (("depth_gt", "depth_est"), ("gt", "est")),
}
VALID_KEY = "valid"


def _open_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path} as an .npz archive of arrays: {exc}") from None


def load_array(path: str | Path, key: str | None = None) -> np.ndarray:
    """One array from an ``.npy`` file, or from an ``.npz`` (``key``, or its only array)."""
    path = Path(path)
    if path.suffix == ".npz":
        arrays = _open_npz(path)
        if key is None:
            if len(arrays) != 1:
                raise ValueError(
                    f"{path} holds {len(arrays)} arrays ({', '.join(sorted(arrays))}); "
                    f"name the one to use with a key option"
                )
            return next(iter(arrays.values()))
        if key not in arrays:
            raise ValueError(f"{path} has no array {key!r}; it holds {', '.join(sorted(arrays))}")
        return arrays[key]
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path} as an .npy array: {exc}") from None


def load_pair(
    path: str | Path,
    kind: str,
    gt_key: str | None = None,
    est_key: str | None = None,
    valid_key: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Ground truth, estimate and (if present) validity mask from one ``.npz``.

    ``kind`` is camera, gaze or depth; without explicit keys the pairs of ``PAIR_KEYS[kind]`` are
    tried in order, and ``valid`` is used when the archive has it (``valid_key`` overrides).
    """
    path = Path(path)
    arrays = _open_npz(path)
    names = ", ".join(sorted(arrays))
    if gt_key is not None or est_key is not None:
        candidates = ((gt_key or "gt", est_key or "est"),)
    else:
        candidates = PAIR_KEYS[kind]
    for g, e in candidates:
        if g in arrays and e in arrays:
            break
    else:
        tried = "; ".join(f"{g}/{e}" for g, e in candidates)
        raise ValueError(
            f"{path} has none of the key pairs {tried} (it holds {names}); "
            f"name them with --gt-key/--est-key"
        )
    vkey = valid_key or VALID_KEY
    if valid_key is not None and vkey not in arrays:
        raise ValueError(f"{path} has no array {vkey!r}; it holds {names}")
    return arrays[g], arrays[e], arrays.get(vkey)


def quaternion_xyzw_to_matrix(q_xyzw: np.ndarray) -> np.ndarray:
    """Unit quaternions (x, y, z, w) to rotation matrices. Shape (N, 4) -> (N, 3, 3)."""
    x, y, z, w = np.moveaxis(q_xyzw, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
        ],
        axis=-2,
    )  # (N, 3, 3)


def read_tum(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """A TUM trajectory file: lines ``t tx ty tz qx qy qz qw`` (seconds, metres).

    Returns ``timestamps_s`` (N,) and ``T_world_camera`` (N, 4, 4). Blank lines and lines
    starting with ``#`` are skipped; commas are accepted as separators. Quaternions are
    normalised (text files store a few digits); timestamps must be strictly increasing.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    rows = []
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.replace(",", " ").split()
        if len(fields) != 8:
            raise ValueError(
                f"{path}:{lineno}: expected 8 columns 't tx ty tz qx qy qz qw' (TUM format), "
                f"got {len(fields)}"
            )
        try:
            rows.append([float(f) for f in fields])
        except ValueError:
            raise ValueError(f"{path}:{lineno}: not all 8 columns are numbers: {line!r}") from None
    if not rows:
        raise ValueError(f"{path} holds no poses (expected lines 't tx ty tz qx qy qz qw')")
    data = np.asarray(rows)  # (N, 8)
    if not np.isfinite(data).all():
        raise ValueError(f"{path} has non-finite values (NaN or inf) in the pose lines")
    timestamps_s = data[:, 0]
    if (np.diff(timestamps_s) <= 0).any():
        i = int(np.flatnonzero(np.diff(timestamps_s) <= 0)[0])
        raise ValueError(
            f"{path}: timestamps must be strictly increasing; pose {i + 1} has t = "
            f"{timestamps_s[i + 1]!r} after t = {timestamps_s[i]!r}"
        )
    q = data[:, 4:8]
    q_norm = np.linalg.norm(q, axis=1)
    if (np.abs(q_norm - 1.0) > 1e-2).any():
        i = int(np.argmax(np.abs(q_norm - 1.0)))
        raise ValueError(
            f"{path}: quaternion of pose {i} has norm {q_norm[i]:.6g}, expected 1 "
            f"(columns qx qy qz qw in TUM order)"
        )
    T = np.tile(np.eye(4), (len(data), 1, 1))  # (N, 4, 4)
    T[:, :3, :3] = quaternion_xyzw_to_matrix(q / q_norm[:, None])
    T[:, :3, 3] = data[:, 1:4]
    return timestamps_s, T


def associate_timestamps(
    timestamps_gt_s: np.ndarray, timestamps_est_s: np.ndarray, max_diff_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one nearest-timestamp matching within ``max_diff_s``.

    Shapes (N,), (M,), both strictly increasing -> index arrays (K,), (K,) in increasing time.
    Each estimate sample takes its nearest ground-truth sample; when several estimates take the
    same one, only the closest keeps it. Raises ValueError when nothing matches.
    """
    t_gt = np.asarray(timestamps_gt_s, dtype=np.float64)
    t_est = np.asarray(timestamps_est_s, dtype=np.float64)
    right = np.clip(np.searchsorted(t_gt, t_est), 1, len(t_gt) - 1) if len(t_gt) > 1 else None
    if right is None:
        nearest = np.zeros(len(t_est), dtype=int)
    else:
        left = right - 1
        nearest = np.where(np.abs(t_gt[left] - t_est) <= np.abs(t_gt[right] - t_est), left, right)
    diff = np.abs(t_gt[nearest] - t_est)
    candidates = np.flatnonzero(diff <= max_diff_s)
    # Closest pairs first, so each ground-truth sample keeps its best estimate.
    order = candidates[np.argsort(diff[candidates], kind="stable")]
    _, first = np.unique(nearest[order], return_index=True)
    idx_est = np.sort(order[first])
    if idx_est.size == 0:
        raise ValueError(
            f"no estimate timestamp lies within {max_diff_s} s of a ground-truth timestamp "
            f"(ground truth {t_gt[0]:.6f}..{t_gt[-1]:.6f} s, estimate {t_est[0]:.6f}.."
            f"{t_est[-1]:.6f} s): check the clocks and units, or raise the maximum difference"
        )
    return nearest[idx_est], idx_est


def relative_to_first(T_world_camera: np.ndarray) -> np.ndarray:
    """Each pose relative to the first, ``inv(T_0) @ T_k`` (the EgoM2P canonical frame).

    Shape (N, 4, 4) -> (N, 4, 4); the first pose becomes the identity, the last row exactly
    [0, 0, 0, 1].
    """
    T = np.asarray(T_world_camera, dtype=np.float64)
    inv0 = np.eye(4)
    inv0[:3, :3] = T[0, :3, :3].T
    inv0[:3, 3] = -T[0, :3, :3].T @ T[0, :3, 3]
    out = inv0 @ T
    out[:, 3] = (0.0, 0.0, 0.0, 1.0)
    return out
