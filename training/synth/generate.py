"""``generate_clip``: one synthetic egocentric clip (RGB, metric depth, gaze, camera trajectory)
with exact ground truth, deterministic for a seed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from egom2p_edge.clips import Clip
from egom2p_edge.training.synth.attention import AttentionPlan, Fixation, plan_attention
from egom2p_edge.training.synth.config import (
    BEHAVIOURS,
    TRAJ_RATE_HZ,
    TRAJ_SAMPLES,
    VIDEO_FPS,
    VIDEO_FRAMES,
    SynthKnobs,
)
from egom2p_edge.training.synth.gaze import GazeSamples, gaze_at, plan_blinks
from egom2p_edge.training.synth.geometry import PinholeIntrinsics, invert_poses
from egom2p_edge.training.synth.motion import HeadMotion, angle_spline, random_tremor
from egom2p_edge.training.synth.paths import SPAN_S, plan_body
from egom2p_edge.training.synth.render import Renderer
from egom2p_edge.training.synth.room import generate_scene
from egom2p_edge.training.synth.scene import Scene
from egom2p_edge.training.synth.sensor import auto_exposure_gain, blur_offsets_s, develop

GENERATOR_VERSION = 1
SOURCE = "synthetic"
LICENCE = "CC0-1.0"  # procedurally generated: no third-party content
MAX_EYE_ECCENTRICITY_DEG = 35.0  # the eye's comfortable range of motion in the head


def traj_times_s() -> np.ndarray:
    """Sample times of camera poses and gaze (30 Hz). Shape (60,)."""
    return np.arange(TRAJ_SAMPLES) / TRAJ_RATE_HZ


def video_times_s() -> np.ndarray:
    """Frame times of the video (8 fps). Shape (16,)."""
    return np.arange(VIDEO_FRAMES) / VIDEO_FPS


@dataclass(frozen=True)
class SynthTruth:
    """Everything behind a synthetic clip, for tests and analysis (not stored in the dataset).

    T_world_traj: (60, 4, 4) and T_world_video: (16, 4, 4) camera-to-world poses in the room's
    world frame; object_id: (16, S, S) int32 surface ids of the video frames; gaze: the 30 Hz
    gaze samples (with per-sample fixation target ids).
    """

    scene: Scene
    head: HeadMotion
    intrinsics: PinholeIntrinsics
    behaviour: str
    fixations: tuple[Fixation, ...]
    blinks: tuple[tuple[float, float], ...]
    gaze: GazeSamples
    T_world_traj: np.ndarray
    T_world_video: np.ndarray
    object_id: np.ndarray
    exposure_s: float
    subframes: np.ndarray


def _rngs(seed: int) -> list[np.random.Generator]:
    """Independent streams for scene, motion, attention, gaze and sensor: changing a sensor knob
    leaves the room and the motion of a seed unchanged."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(5)]


@dataclass(frozen=True)
class MotionPlan:
    """The room and the motion of a clip, before any rendering."""

    scene: Scene
    behaviour: str
    head: HeadMotion
    attention: AttentionPlan


def _plan(r_scene, r_motion, r_attn, knobs: SynthKnobs) -> MotionPlan:
    scene = generate_scene(r_scene, knobs)
    w = np.asarray(knobs.behaviour_weights, float)
    behaviour = BEHAVIOURS[int(r_motion.choice(len(BEHAVIOURS), p=w / w.sum()))]
    body_plan = plan_body(scene, behaviour, r_motion, knobs)
    attention = plan_attention(scene, body_plan, r_attn, knobs)
    roll = float(np.deg2rad(r_motion.normal(0.0, 2.0)))
    angles = angle_spline(attention.head_start, list(attention.turns), roll, SPAN_S)
    head = HeadMotion(body_plan.body, angles, random_tremor(r_motion))
    return MotionPlan(scene, body_plan.behaviour, head, attention)


def plan_clip_motion(seed: int, knobs: SynthKnobs | None = None) -> MotionPlan:
    """The room, head motion and gaze targets of the clip ``seed``, without rendering (fast)."""
    r_scene, r_motion, r_attn, _, _ = _rngs(seed)
    return _plan(r_scene, r_motion, r_attn, SynthKnobs() if knobs is None else knobs)


def _render_video(
    renderer: Renderer,
    head: HeadMotion,
    knobs: SynthKnobs,
    lighting_bias: float,
    exposure_s: float,
    rng: np.random.Generator,
):
    """The 16 video frames, each averaged over its blur sub-frames and developed to 8 bits.

    Returns rgb (16, S, S, 3) uint8, depth (16, S, S) float32 metres and object ids (16, S, S)
    int32 (both from the sub-frame at the frame time), and the sub-frame count per frame (16,).
    The auto-exposure gain is set on the first frame and held for the clip.
    """
    K = renderer.K
    s = K.size
    rgb = np.empty((VIDEO_FRAMES, s, s, 3), np.uint8)
    depth = np.empty((VIDEO_FRAMES, s, s), np.float32)
    ids = np.empty((VIDEO_FRAMES, s, s), np.int32)
    subframes = np.empty(VIDEO_FRAMES, np.int64)
    gain = None
    for k, t in enumerate(video_times_s()):
        ends = head.T_world_camera([t - exposure_s / 2, t + exposure_s / 2])
        offsets = blur_offsets_s(exposure_s, ends[0], ends[1], K, knobs.blur_subframes)
        poses = head.T_world_camera(t + offsets)
        acc = np.zeros((s, s, 3))
        for j, dt in enumerate(offsets):
            frame = renderer.render(poses[j], float(t + dt))
            acc += frame.radiance
            if j == len(offsets) // 2:  # the sub-frame at the frame time: exact depth and ids
                depth[k], ids[k] = frame.depth_m, frame.object_id
        radiance = acc / len(offsets)
        if gain is None:
            gain = auto_exposure_gain(radiance, lighting_bias)
        rgb[k] = develop(
            radiance, gain, knobs.noise_level, 0.25 if knobs.noise_level > 0 else 0.0, rng
        )
        subframes[k] = len(offsets)
    return rgb, depth, ids, subframes


def generate_clip_with_truth(
    seed: int, size: int = 128, knobs: SynthKnobs | None = None, clip_id: str | None = None
) -> tuple[Clip, SynthTruth]:
    """A clip and the ground truth behind it. Deterministic for (seed, size, knobs)."""
    knobs = SynthKnobs() if knobs is None else knobs
    if not isinstance(size, (int, np.integer)) or not 16 <= size <= 2048:
        raise ValueError(f"size must be an int in [16, 2048] pixels, got {size!r}")
    r_scene, r_motion, r_attn, r_gaze, r_sensor = _rngs(seed)
    plan = _plan(r_scene, r_motion, r_attn, knobs)
    scene, head, behaviour, attention = plan.scene, plan.head, plan.behaviour, plan.attention
    K = PinholeIntrinsics.from_hfov(int(size), float(r_sensor.uniform(*knobs.hfov_deg)))
    # The eye stays within its range and inside the circle inscribed in the square image.
    max_ecc = min(MAX_EYE_ECCENTRICITY_DEG, 0.92 * np.rad2deg(np.arctan(0.5 * size / K.fx)))
    blinks = plan_blinks(r_gaze, knobs.blink_rate_hz, (0.0, 2.0), attention.fixations)
    gaze = gaze_at(scene, head, attention.fixations, blinks, K, traj_times_s(), max_ecc)
    T_traj = head.T_world_camera(traj_times_s())
    T_video = head.T_world_camera(video_times_s())
    exposure_s = float(r_sensor.uniform(0.0, knobs.max_exposure_ms)) / 1000.0
    rgb, depth, ids, subframes = _render_video(
        Renderer(scene, K), head, knobs, scene.lighting.exposure, exposure_s, r_sensor
    )
    T_first_inv = invert_poses(T_traj[0])
    T_first_traj = T_first_inv @ T_traj
    T_first_traj[0] = np.eye(4)  # exactly, not to rounding
    T_first_traj[:, 3] = (0.0, 0.0, 0.0, 1.0)
    traj_ns = np.round(traj_times_s() * 1e9).astype(np.int64)
    clip = Clip(
        clip_id=clip_id or f"synth-{seed}",
        source=SOURCE,
        licence=LICENCE,
        rgb=rgb,
        rgb_timestamps_ns=np.round(video_times_s() * 1e9).astype(np.int64),
        gaze_xy_norm=np.where(gaze.valid[:, None], gaze.xy_norm, 0.0),
        gaze_valid=gaze.valid.copy(),
        gaze_timestamps_ns=traj_ns,
        T_first_camera=T_first_traj,
        camera_timestamps_ns=traj_ns.copy(),
        meta=_meta(
            seed,
            knobs,
            scene,
            K,
            behaviour,
            gaze,
            T_traj,
            T_video,
            T_first_inv,
            exposure_s,
            subframes,
            blinks,
        ),
    )
    clip.set_depth_from_metric(depth)
    truth = SynthTruth(
        scene,
        head,
        K,
        behaviour,
        attention.fixations,
        tuple(blinks),
        gaze,
        T_traj,
        T_video,
        ids,
        exposure_s,
        subframes,
    )
    return clip.validate(), truth


def generate_clip(
    seed: int, size: int = 128, knobs: SynthKnobs | None = None, clip_id: str | None = None
) -> Clip:
    """One synthetic clip: RGB (16, S, S, 3), metric depth, 30 Hz gaze and camera poses."""
    return generate_clip_with_truth(seed, size, knobs, clip_id)[0]


def _meta(
    seed,
    knobs,
    scene,
    K,
    behaviour,
    gaze,
    T_traj,
    T_video,
    T_first_inv,
    exposure_s,
    subframes,
    blinks,
) -> dict:
    T_first_video = T_first_inv @ T_video
    return {
        "generator": "egom2p_edge.training.synth",
        "generator_version": GENERATOR_VERSION,
        "seed": int(seed),
        **K.as_meta(),
        "hfov_deg": float(np.rad2deg(2 * np.arctan(0.5 * K.size / K.fx))),
        "pixel_convention": "opencv: integer pixel coordinates at pixel centres; "
        "gaze_xy_norm = (u + 0.5) / size",
        "depth": "metric z-depth along the optical axis, exact (rendered at the frame time)",
        "T_world_first_camera": T_traj[0].tolist(),
        "world_frame": "metres, z up, room floor at z = 0",
        "T_first_camera_video": T_first_video.tolist(),
        "behaviour": behaviour,
        "fixation_target_id": gaze.target_id.astype(int).tolist(),
        "gaze_in_saccade": gaze.saccade.tolist(),
        "gaze_in_pursuit": gaze.pursuit.tolist(),
        "blinks_s": [[float(a), float(b)] for a, b in blinks],
        "exposure_ms": exposure_s * 1000.0,
        "blur_subframes": subframes.astype(int).tolist(),
        "room_size_m": [float(x) for x in scene.size_m],
        "num_objects": len(scene.primitives),
        "knobs": knobs.as_meta(),
    }
