"""Official pre- and post-processing of camera trajectories and gaze for the VQ-VAE tokenizers.

Pure numpy. Camera: cam-to-world 4x4 poses (OpenCV axes) -> canonical to the first frame ->
9-D ``[R[:,0], R[:,1], t]`` -> standardised with the fixed CAM_MEAN/CAM_STD (float64, cast to
float32 once); back: the official float32 denormalisation and Gram-Schmidt to 4x4.
Gaze: pixels -> [0,1] in the square centre crop -> validity rule -> [-1,1] plus a validity channel;
back: the official float32 ``(x + 1) / 2`` and, optionally, crop coordinates -> source pixels.
Facts: EGOM2P_SPEC.md sections 1.4 and 1.5.
"""

from __future__ import annotations

import numpy as np

# Per-dimension statistics of the official tokenizer training set (egom2p/utils/data_constants).
CAM_MEAN = np.array(
    [0.9330503976511908, 0.004411310479848365, -0.004745505205447648, -0.004031105018382311,
     0.9670221745404669, 0.01229744056849661, 0.0025366981809852238, -0.002534521133857395,
     0.03687088469884694],
    dtype=np.float64,
)  # fmt: skip
CAM_STD = np.array(
    [0.22410282941424692, 0.15409594854789294, 0.23538762722445528, 0.151592393482513,
     0.09890854498671052, 0.17871060521456542, 0.16229749698697332, 0.11305994570310635,
     0.22450155613920986],
    dtype=np.float64,
)  # fmt: skip
CAM_MEAN.flags.writeable = False
CAM_STD.flags.writeable = False

GAZE_MEAN = 0.5  # gaze (g - 0.5) / 0.5 maps [0,1] to [-1,1]
GAZE_STD = 0.5
GAZE_VALID_MIN = -0.2  # official validity rule, in [0,1] crop units
GAZE_VALID_MAX = 1.2


def _as_float_array(x, name: str, last_shape: tuple[int, ...]) -> np.ndarray:
    a = np.asarray(x)
    if (
        a.dtype.kind not in "fiu"
        or a.ndim < len(last_shape)
        or (tuple(a.shape[a.ndim - len(last_shape) :]) != last_shape)
    ):
        want = ", ".join(["..."] + [str(d) for d in last_shape])
        raise ValueError(
            f"{name}: expected a real array of shape ({want}), got dtype {a.dtype} shape {a.shape}"
        )
    return a


# ----- camera -----------------------------------------------------------------------------------


def canonicalize_c2w(T_world_camera) -> np.ndarray:
    """Poses relative to the first frame: ``inv(P_0) @ P_k``. Shape (..., T, 4, 4) float64.

    Translations stay in metres (no scale normalisation). NaN/inf or a singular first pose is a
    ValueError.
    """
    P = _as_float_array(T_world_camera, "T_world_camera", (4, 4)).astype(np.float64)
    if P.ndim < 3 or P.shape[-3] < 1:
        raise ValueError(f"T_world_camera: expected shape (..., T, 4, 4), got {P.shape}")
    if not np.all(np.isfinite(P)):
        raise ValueError(
            "T_world_camera contains NaN or inf poses; drop or repair the clip before tokenising"
        )
    try:
        first_inv = np.linalg.inv(P[..., :1, :, :])  # (..., 1, 4, 4)
    except np.linalg.LinAlgError:
        raise ValueError(
            "T_world_camera: the first pose is singular, not a rigid transform"
        ) from None
    # Summed in index order (einsum), which reproduces the official float64 values exactly.
    return np.einsum("...ij,...tjk->...tik", first_inv[..., 0, :, :], P)  # (..., T, 4, 4)


def c2w_to_9d(T: np.ndarray) -> np.ndarray:
    """``[R[:,0], R[:,1], t]`` per pose (first two rotation columns, then translation).

    Shape (..., 4, 4) -> (..., 9), same dtype.
    """
    T = _as_float_array(T, "c2w", (4, 4))
    cols = np.swapaxes(T[..., :3, :2], -1, -2)  # (..., 2, 3): rows are R[:,0], R[:,1]
    rot6 = cols.reshape(*T.shape[:-2], 6)  # (..., 6)
    return np.concatenate([rot6, T[..., :3, 3]], axis=-1)  # (..., 9)


def camera_to_canonical_9d(T_world_camera) -> np.ndarray:
    """Official ``canonicalize``: (..., T, 4, 4) cam-to-world -> (..., T, 9) float64."""
    return c2w_to_9d(canonicalize_c2w(T_world_camera))


def normalize_9d(nine_d, mean=CAM_MEAN, std=CAM_STD) -> np.ndarray:
    """Model input ``(x - mean) / std`` computed in float64, cast once. (..., 9) float32."""
    x = _as_float_array(nine_d, "nine_d", (9,)).astype(np.float64)
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    return ((x - mean) / std).astype(np.float32)


def camera_to_model_input(T_world_camera, mean=CAM_MEAN, std=CAM_STD) -> np.ndarray:
    """Cam-to-world poses (..., T, 4, 4) -> normalised canonical 9-D (..., T, 9) float32."""
    return normalize_9d(camera_to_canonical_9d(T_world_camera), mean, std)


def denormalize(x, mean, std) -> np.ndarray:
    """The official float32 inverse standardisation ``(x - fl32(-mean/std)) / fl32(1/std)``.

    (Not exactly ``x * std + mean``: about 1 ulp apart.) Shape (..., C) float32.
    """
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    shift = (-mean / std).astype(np.float32)
    scale = (1.0 / std).astype(np.float32)
    return (np.asarray(x, dtype=np.float32) - shift) / scale


def denormalize_9d(x, mean=CAM_MEAN, std=CAM_STD) -> np.ndarray:
    """Decoder output (..., 9) -> canonical 9-D (..., 9) float32 (official formula)."""
    _as_float_array(x, "nine_d", (9,))
    return denormalize(x, mean, std)


def rot6d_to_matrix(rot6) -> np.ndarray:
    """Gram-Schmidt: ``b1 = a1/|a1|``, ``b2 = unit(a2 - (b1.a2) b1)``, ``b3 = b1 x b2``.

    Shape (..., 6) -> (..., 3, 3) with columns b1, b2, b3; arithmetic in the input dtype.
    """
    a = _as_float_array(rot6, "rot6d", (6,))
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    a1, a2 = a[..., 0:3], a[..., 3:6]
    b1 = a1 / np.linalg.norm(a1, axis=-1, keepdims=True)
    b2 = a2 - np.sum(b1 * a2, axis=-1, keepdims=True) * b1
    b2 = b2 / np.linalg.norm(b2, axis=-1, keepdims=True)
    b3 = np.cross(b1, b2)
    return np.stack([b1, b2, b3], axis=-1)  # (..., 3, 3): stacked as columns


def nine_d_to_c2w(nine_d) -> np.ndarray:
    """9-D -> 4x4 poses (rotation by Gram-Schmidt, translation as is). (..., 9) -> (..., 4, 4).

    Computed in the input's dtype (float32 decoder outputs stay float32 arithmetic, as in the
    official evaluation) and returned as float64.
    """
    x = _as_float_array(nine_d, "nine_d", (9,))
    out = np.zeros((*x.shape[:-1], 4, 4), dtype=np.float64)
    out[..., :3, :3] = rot6d_to_matrix(x[..., :6])
    out[..., :3, 3] = x[..., 6:9]
    out[..., 3, 3] = 1.0
    return out


# ----- gaze -------------------------------------------------------------------------------------


def _res(value, name: str) -> np.ndarray:
    r = np.asarray(value, dtype=np.float64)
    if r.shape != (2,) or not np.all(np.isfinite(r)) or np.any(r <= 0):
        raise ValueError(f"{name}: expected (width, height) > 0, got {value!r}")
    return r


def gaze_to_crop(gaze_px, orig_res, resize_res, new_res) -> np.ndarray:
    """Source pixels -> [0,1] in the square centre crop. Shape (..., 2) float64, NaN kept.

    ``g / orig_res * resize_res - (resize_res - new_res) / 2``, then ``/ new_res``; resolutions
    are (width, height). HoloAssist: orig = resize = (896, 504), new = (480, 480).
    """
    g = _as_float_array(gaze_px, "gaze_px", (2,)).astype(np.float64)
    orig, resize, new = (_res(v, n) for v, n in ((orig_res, "orig_res"),
                                                  (resize_res, "resize_res"),
                                                  (new_res, "new_res")))  # fmt: skip
    return (g / orig * resize - (resize - new) / 2) / new


def crop_to_gaze_px(gaze_xy_norm, orig_res, resize_res, new_res) -> np.ndarray:
    """Inverse of ``gaze_to_crop``: [0,1] crop coordinates -> source pixels. (..., 2) float64."""
    g = _as_float_array(gaze_xy_norm, "gaze_xy_norm", (2,)).astype(np.float64)
    orig, resize, new = (_res(v, n) for v, n in ((orig_res, "orig_res"),
                                                  (resize_res, "resize_res"),
                                                  (new_res, "new_res")))  # fmt: skip
    return (g * new + (resize - new) / 2) / resize * orig


def gaze_validity(gaze_xy_norm) -> np.ndarray:
    """Official rule: a frame is invalid if a coordinate is NaN, < -0.2 or > 1.2. (..., 2) ->
    (...) bool."""
    g = _as_float_array(gaze_xy_norm, "gaze_xy_norm", (2,))
    with np.errstate(invalid="ignore"):
        bad = np.isnan(g) | (g < GAZE_VALID_MIN) | (g > GAZE_VALID_MAX)
    return ~np.any(bad, axis=-1)


def normalize_gaze_crop(gaze_xy_norm) -> np.ndarray:
    """[0,1] crop coordinates -> (x, y, validity) in [-1,1], float64. (..., 2) -> (..., 3).

    Invalid frames get value 0 before the mapping (so they hold -1) and validity 0.
    """
    g = _as_float_array(gaze_xy_norm, "gaze_xy_norm", (2,)).astype(np.float64)
    valid = gaze_validity(g)
    g = np.where(valid[..., None], g, 0.0)
    xy = (g - GAZE_MEAN) / GAZE_STD
    return np.concatenate([xy, valid[..., None].astype(np.float64)], axis=-1)


def convert_gaze(gaze_px, orig_res, resize_res, new_res) -> np.ndarray:
    """Official ``convert``: source pixels (..., T, 2) -> (..., T, 3) float64 ``[x, y, valid]``
    with x, y in [-1,1] over the square crop."""
    return normalize_gaze_crop(gaze_to_crop(gaze_px, orig_res, resize_res, new_res))


def gaze_to_model_input(gaze_px, orig_res, resize_res, new_res) -> np.ndarray:
    """``convert_gaze`` cast once to float32: the model input (..., T, 3)."""
    return convert_gaze(gaze_px, orig_res, resize_res, new_res).astype(np.float32)


def denormalize_gaze(xy) -> np.ndarray:
    """Decoder output (..., 2) in [-1,1] -> [0,1] crop coordinates, the official float32
    ``denormalize(x, 0.5, 0.5)`` = ``(x + 1) / 2``."""
    _as_float_array(xy, "gaze_xy", (2,))
    return denormalize(xy, (GAZE_MEAN, GAZE_MEAN), (GAZE_STD, GAZE_STD))
