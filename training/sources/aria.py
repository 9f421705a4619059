"""Aria recordings: MPS folders (poses + gaze) and VRS files (RGB, calibration, depth).

Conventions (see ``aria_mps``, ``aria_gaze``): poses are ``T_world_device @ T_device_camera-rgb
@ CW90`` (camera of the upright image, OpenCV axes); RGB frames are turned 90 degrees clockwise
(``np.rot90(k=-1)``) to upright, gaze pixels with them. All timestamps are on the device clock
(MPS ``tracking_timestamp_us`` and VRS ``capture_timestamp_ns`` share it), in ns.
projectaria-tools is imported lazily: pose-only curation of MPS folders works without it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from egom2p_edge.training.curate.conventions import CW90
from egom2p_edge.training.sources.aria_gaze import (
    NOMINAL_T_DEVICE_CPF,
    project_gaze_upright_norm,
    require_projectaria_tools,
)
from egom2p_edge.training.sources.aria_mps import (
    EyeGazeCpf,
    mps_pose_track,
    read_mps_eye_gaze,
    read_mps_trajectory,
    read_online_calibration,
)
from egom2p_edge.training.sources.types import FrameTrack, GazeTrack, PoseTrack, Recording

log = logging.getLogger(__name__)

ARIA_LICENCE = "Project Aria sample data (projectaria_tools, Apache-2.0; ADT/AEA dataset licence)"
GAZE_FILES = (
    "personalized_eye_gaze.csv",
    "general_eye_gaze.csv",
    "generalized_eye_gaze.csv",
    "eyegaze.csv",
)


def _find(root: Path, names: tuple[str, ...], subdirs: tuple[str, ...]) -> Path | None:
    for name in names:
        for sub in subdirs:
            p = root / sub / name
            if p.is_file():
                return p
    return None


def _gaze_track(g: EyeGazeCpf, project) -> GazeTrack:
    """Project every sample with ``project(idx, yaw, pitch, depth) -> (n, 2)``; count losses."""
    xy = project(g.yaw_rads, g.pitch_rads, g.depth_m)
    finite_angles = np.isfinite(g.yaw_rads) & np.isfinite(g.pitch_rads)
    valid = np.isfinite(xy).all(axis=1)
    xy[~valid] = np.nan
    masked = {
        "gaze_angles_nonfinite": int((~finite_angles).sum()),
        "gaze_not_projectable": int((finite_angles & ~valid).sum()),
        **(g.counts or {}),
    }
    return GazeTrack(g.timestamps_ns, xy, valid, masked)


def mps_gaze_track(
    gaze_csv: Path, calib_jsonl: Path, T_device_cpf: np.ndarray = NOMINAL_T_DEVICE_CPF
) -> GazeTrack:
    """MPS gaze projected into the upright RGB crop, each sample with the online calibration
    record nearest in time (needs projectaria-tools for the FISHEYE624 model)."""
    core = require_projectaria_tools()
    calibs = core.mps.read_online_calibration(str(calib_jsonl))
    if not calibs:
        raise ValueError(f"{calib_jsonl}: no online calibration records")
    cal_ts = read_online_calibration(calib_jsonl).timestamps_ns  # exact, same records in order
    if len(cal_ts) != len(calibs):
        raise ValueError(
            f"{calib_jsonl}: projectaria-tools read {len(calibs)} records, expected {len(cal_ts)}"
        )
    g = read_mps_eye_gaze(gaze_csv)
    nearest = np.abs(g.timestamps_ns[:, None] - cal_ts[None, :]).argmin(axis=1)

    def project(yaw, pitch, depth):
        out = np.full((len(yaw), 2), np.nan)
        for k in np.unique(nearest):
            cam = calibs[k].get_camera_calib("camera-rgb")
            T_dc = cam.get_transform_device_camera().to_matrix()
            sel = nearest == k
            out[sel] = project_gaze_upright_norm(
                yaw[sel], pitch[sel], depth[sel], T_device_cpf, T_dc, cam
            )
        return out

    return _gaze_track(g, project)


def load_aria_mps(
    root: str | Path, name: str | None = None, gaze: str = "auto", licence: str = ARIA_LICENCE
) -> Recording:
    """An Aria MPS folder: ``trajectory/`` or ``slam/`` (closed_loop_trajectory.csv,
    online_calibration.jsonl) and optionally ``eye_gaze/``.

    ``gaze``: ``auto`` (use it when the files and projectaria-tools are there), ``require``
    or ``skip``. The RGB image and frames are not part of MPS outputs.
    """
    root = Path(root)
    traj = _find(root, ("closed_loop_trajectory.csv",), ("trajectory", "slam", "."))
    calib = _find(root, ("online_calibration.jsonl",), ("trajectory", "slam", "."))
    if traj is None or calib is None:
        raise FileNotFoundError(
            f"{root}: expected trajectory/ or slam/ with "
            "closed_loop_trajectory.csv and online_calibration.jsonl"
        )
    poses, counts = mps_pose_track(traj, calib)
    rec = Recording(
        name or root.name,
        "aria_mps",
        licence,
        poses=poses,
        meta={"pose_frame": "Aria RGB camera, upright image (CW90), OpenCV"},
        loader_counts=counts,
    )
    gaze_csv = _find(root, GAZE_FILES, ("eye_gaze", "."))
    if gaze == "skip":
        return rec
    if gaze_csv is None:
        if gaze == "require":
            raise FileNotFoundError(f"{root}: no eye gaze CSV ({', '.join(GAZE_FILES)})")
        return rec
    try:
        rec.gaze = mps_gaze_track(gaze_csv, calib)
    except ImportError:
        if gaze == "require":
            raise
        log.warning("%s: gaze skipped: projectaria-tools is not installed", root)
        rec.loader_counts["gaze_skipped_no_projectaria_tools"] = 1
        return rec
    rec.meta.update(
        gaze_file=gaze_csv.name,
        gaze_T_device_cpf="nominal (ADT device)",
        gaze_frame="upright RGB, full 1408/2880 square, pixel centres + 0.5",
    )
    return rec


def _open_vrs(path: Path):
    core = require_projectaria_tools()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: VRS file not found")
    provider = core.data_provider.create_vrs_data_provider(str(path))
    if provider is None:
        raise ValueError(
            f"{path}: projectaria-tools could not open this VRS file (corrupt or truncated?)"
        )
    return core, provider


def _vrs_frames(provider, stream_id, n: int, kind: str) -> FrameTrack:
    ts = np.array(
        [provider.get_image_data_by_index(stream_id, i)[1].capture_timestamp_ns for i in range(n)],
        dtype=np.int64,
    )
    first = provider.get_image_data_by_index(stream_id, 0)[0].to_numpy_array()
    h, w = first.shape[:2]

    def read(indices: list[int]) -> list[np.ndarray]:
        out = []
        for i in indices:
            a = provider.get_image_data_by_index(stream_id, int(i))[0].to_numpy_array()
            a = np.rot90(a, k=-1)  # raw Aria images are sideways: turn clockwise to upright
            out.append(
                np.ascontiguousarray(a) if kind == "rgb" else (a.astype(np.float32) / 1000.0)
            )  # depth: uint16 mm -> m
        return out

    return FrameTrack(ts, h, w, read, kind=kind)


def load_aria_vrs(
    vrs_path: str | Path,
    trajectory_csv: str | Path | None = None,
    eyegaze_csv: str | Path | None = None,
    depth_vrs: str | Path | None = None,
    name: str | None = None,
    licence: str = ARIA_LICENCE,
) -> Recording:
    """An Aria VRS recording (RGB stream ``camera-rgb`` and its factory calibration), with
    optional MPS/ADT trajectory and eye-gaze CSVs and an ADT depth VRS (stream 345-1: depth for
    the RGB camera, uint16 mm, 0 = invalid)."""
    vrs_path = Path(vrs_path)
    core, provider = _open_vrs(vrs_path)
    sid = provider.get_stream_id_from_label("camera-rgb")
    if sid is None or provider.get_num_data(sid) == 0:
        raise ValueError(f"{vrs_path}: no camera-rgb images")
    calib = provider.get_device_calibration()
    cam = calib.get_camera_calib("camera-rgb")
    T_dc = cam.get_transform_device_camera().to_matrix()
    T_dcpf = calib.get_transform_device_cpf().to_matrix()
    rec = Recording(
        name or vrs_path.stem,
        "aria_vrs",
        licence,
        video=_vrs_frames(provider, sid, provider.get_num_data(sid), "rgb"),
        meta={
            "rgb_model": str(cam.get_model_name()),
            "rgb_size": [int(v) for v in cam.get_image_size()],
            "T_device_camera_rgb": T_dc.tolist(),
            "pose_frame": "Aria RGB camera, upright image (CW90), OpenCV",
        },
    )
    if trajectory_csv is not None:
        ts, T, counts = read_mps_trajectory(trajectory_csv)
        rec.poses = PoseTrack.fixed(
            ts, T, T_dc @ CW90, ("aria_T_world_device", "T_device_camera-rgb", "aria_cw90")
        )
        rec.loader_counts.update(counts)
    if eyegaze_csv is not None:
        g = read_mps_eye_gaze(eyegaze_csv)
        rec.gaze = _gaze_track(
            g, lambda y, p, d: project_gaze_upright_norm(y, p, d, T_dcpf, T_dc, cam)
        )
    if depth_vrs is not None:
        dpath = Path(depth_vrs)
        _, dprov = _open_vrs(dpath)
        did = core.stream_id.StreamId("345-1")
        n = dprov.get_num_data(did)
        if n == 0:
            raise ValueError(f"{dpath}: no frames in depth stream 345-1")
        rec.depth = _vrs_frames(dprov, did, n, "depth")
    return rec
