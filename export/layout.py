"""What a bundle will hold, derived from its components, and the checks that they fit together.

``plan_bundle`` returns the stages to export, the modality table, the video and trajectory
windows, the backbone description and the decoding defaults; components that do not fit (a
backbone vocabulary smaller than a tokenizer's codebook, a token grid or token count that
differs, a tokenizer for a modality the backbone lacks) raise ``MisfitError`` naming both.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from egom2p_edge.bundle import names
from egom2p_edge.bundle.manifest import (
    BackboneSpec,
    DecodingDefaults,
    DecodingSpec,
    ModalityEntry,
    TrajectorySpec,
    VideoSpec,
)
from egom2p_edge.export.components import (
    BACKBONE,
    CAM_TOKENIZER,
    GAZE_TOKENIZER,
    VIDEO_TOKENIZER,
    Component,
)
from egom2p_edge.export.stage_modules import check_video_size, time_padding
from egom2p_edge.modalities import (
    MODALITIES,
    TRAJ_CLIP_SAMPLES,
    VIDEO_CLIP_FRAMES,
    modality_id,
)
from egom2p_edge.models.generation.generate import DEFAULT_STEPS, generate

VIDEO_FPS = 8
TRAJ_RATE_HZ = 30
OFFICIAL_VIDEO_SIZE = 256  # the video side when no backbone fixes it (official EgoM2P)
TRAJ_TARGETS = ("tok_gaze", "tok_cam")  # decoder targets, in the default decoding order
_DECODING_FIELDS = ("mode", "scheme", "schedule", "temperature", "temperature_schedule",
                   "guidance_scale", "top_p", "top_k", "grow_conditioning")  # fmt: skip


def reference_decoding_defaults() -> dict:
    """The reference ``generate``'s defaults (the official eval scripts' settings, EGOM2P_SPEC.md
    4.1), read from its signature so the bundle and the reference cannot drift apart."""
    params = inspect.signature(generate).parameters
    return {k: params[k].default for k in _DECODING_FIELDS}


_TRAJ_ROLE = {"tok_cam": CAM_TOKENIZER, "tok_gaze": GAZE_TOKENIZER}
_STAGES_OF = {
    VIDEO_TOKENIZER: (names.VIDEO_ENCODER, names.VIDEO_DECODER),
    CAM_TOKENIZER: (names.CAM_ENCODER, names.CAM_DECODER),
    GAZE_TOKENIZER: (names.GAZE_ENCODER, names.GAZE_DECODER),
    BACKBONE: (names.BACKBONE_ENCODER, names.BACKBONE_DECODER),
}


class MisfitError(ValueError):
    """Components that cannot serve one bundle together."""


@dataclass(frozen=True)
class BundlePlan:
    """Everything about a bundle that follows from its components (no weights)."""

    stages: dict[str, str]  # stage -> component role, in export order
    modalities: tuple[ModalityEntry, ...]
    video: VideoSpec | None
    trajectory: TrajectorySpec | None
    backbone: BackboneSpec | None
    decoding: DecodingSpec | None


def _video_grid(tok_cfg, size: int, frames: int) -> tuple[int, int, int]:
    before, after = time_padding(frames)
    padded = frames + before + after  # 1 + 4k
    return (
        1 + (padded - 1) // tok_cfg.temporal_compression,
        size // tok_cfg.spatial_compression,
        size // tok_cfg.spatial_compression,
    )


def _plan_video(comps: dict[str, Component]) -> VideoSpec | None:
    vt, bb = comps.get(VIDEO_TOKENIZER), comps.get(BACKBONE)
    if vt is None:
        if bb is None or "tok_rgb" not in bb.model.config.modality_names:
            return None
        t, h, w = bb.model.config.spec("tok_rgb").token_shape
        size, vocab = h * 8, bb.model.config.spec("tok_rgb").vocab_size  # Cosmos DV: 8x8
        return VideoSpec(
            size, VIDEO_CLIP_FRAMES, VIDEO_FPS, (t, h, w), vocab, time_padding(VIDEO_CLIP_FRAMES)
        )
    cfg = vt.model.config
    size = OFFICIAL_VIDEO_SIZE
    if bb is not None:
        bcfg = bb.model.config
        videos = [m for m in bcfg.modalities if MODALITIES[m.name].kind == "video"]
        videos.sort(key=lambda m: m.name != "tok_rgb")  # report tok_rgb first
        if "tok_rgb" not in bcfg.modality_names:
            raise MisfitError(
                f"the video tokenizer {vt.source} has no use with the backbone {bb.source}: the "
                f"backbone has no tok_rgb modality ({list(bcfg.modality_names)}); export them "
                f"separately"
            )
        t, h, w = bcfg.spec("tok_rgb").token_shape
        if h != w:
            raise MisfitError(f"the backbone {bb.source} has a non-square rgb grid {(t, h, w)}")
        size = h * cfg.spatial_compression
        for m in videos:
            if m.vocab_size < cfg.vocab_size:
                raise MisfitError(
                    f"the backbone {bb.source} has a {m.name} vocabulary of {m.vocab_size} ids, "
                    f"smaller than the codebook of the video tokenizer {vt.source} "
                    f"({cfg.vocab_size} codes): its token ids would not fit the backbone. Use "
                    f"matching checkpoints, or export the backbone and the tokenizer in separate "
                    f"bundles"
                )
        grid = _video_grid(cfg, size, VIDEO_CLIP_FRAMES)
        if grid != (t, h, w):
            raise MisfitError(
                f"the video tokenizer {vt.source} turns a {VIDEO_CLIP_FRAMES}-frame {size}x{size} "
                f"window into a {grid} token grid, but the backbone {bb.source} expects tok_rgb "
                f"as {(t, h, w)}; use matching checkpoints"
            )
    check_video_size(size)
    grid = _video_grid(cfg, size, VIDEO_CLIP_FRAMES)
    return VideoSpec(
        size, VIDEO_CLIP_FRAMES, VIDEO_FPS, grid, cfg.vocab_size, time_padding(VIDEO_CLIP_FRAMES)
    )


def _plan_trajectory(comps: dict[str, Component]) -> TrajectorySpec | None:
    toks = [c for r, c in comps.items() if r in (CAM_TOKENIZER, GAZE_TOKENIZER)]
    bb = comps.get(BACKBONE)
    if len(toks) == 2:
        cam, gaze = comps[CAM_TOKENIZER], comps[GAZE_TOKENIZER]
        a, b = cam.model.config, gaze.model.config
        if (a.num_frames, a.num_tokens) != (b.num_frames, b.num_tokens):
            raise MisfitError(
                f"the camera tokenizer {cam.source} maps {a.num_frames} samples to "
                f"{a.num_tokens} tokens but the gaze tokenizer {gaze.source} maps "
                f"{b.num_frames} to {b.num_tokens}; both must use one window"
            )
    for name, role in _TRAJ_ROLE.items():
        tok = comps.get(role)
        if tok is None or bb is None:
            continue
        bcfg, tcfg = bb.model.config, tok.model.config
        if name not in bcfg.modality_names:
            raise MisfitError(
                f"the {tcfg.domain} tokenizer {tok.source} has no use with the backbone "
                f"{bb.source}: the backbone has no {name} modality ({list(bcfg.modality_names)})"
            )
        spec = bcfg.spec(name)
        if spec.vocab_size != tcfg.codebook_size:
            raise MisfitError(
                f"the backbone {bb.source} has a {name} vocabulary of {spec.vocab_size} ids but "
                f"the {tcfg.domain} tokenizer {tok.source} has {tcfg.codebook_size} codes; they "
                f"must be equal (use matching checkpoints)"
            )
        if spec.num_tokens != tcfg.num_tokens:
            raise MisfitError(
                f"the backbone {bb.source} expects {spec.num_tokens} {name} tokens per window but "
                f"the {tcfg.domain} tokenizer {tok.source} makes {tcfg.num_tokens}"
            )
    if toks:
        cfg = toks[0].model.config
        return TrajectorySpec(cfg.num_frames, TRAJ_RATE_HZ, cfg.num_tokens)
    if bb is not None:
        for name in TRAJ_TARGETS:
            if name in bb.model.config.modality_names:
                n = bb.model.config.spec(name).num_tokens
                return TrajectorySpec(TRAJ_CLIP_SAMPLES, TRAJ_RATE_HZ, n)
    return None


def _entry(index, name, vocab, shape, pos_emb, comps, bb_input, bb_target) -> ModalityEntry:
    role = VIDEO_TOKENIZER if name == "tok_rgb" else _TRAJ_ROLE.get(name)
    enc, dec = _STAGES_OF[role] if role in comps else (None, None)
    return ModalityEntry(
        index,
        name,
        MODALITIES[name].short,
        modality_id(name),
        MODALITIES[name].kind,
        vocab,
        tuple(shape),
        pos_emb,
        enc,
        dec,
        bb_input,
        bb_target,
    )


def plan_bundle(comps: dict[str, Component]) -> BundlePlan:
    """The bundle layout for these components (keyed by role); MisfitError when they clash."""
    if not comps:
        raise ValueError("nothing to export: give --model and/or at least one tokenizer")
    video = _plan_video(comps)
    trajectory = _plan_trajectory(comps)
    bb = comps.get(BACKBONE)
    stages = {s: role for role in _STAGES_OF if role in comps for s in _STAGES_OF[role]}
    mods: list[ModalityEntry] = []
    backbone = decoding = None
    if bb is not None:
        cfg = bb.model.config
        targets = tuple(t for t in TRAJ_TARGETS if t in cfg.modality_names)
        if not targets:
            raise MisfitError(
                f"the backbone {bb.source} has neither tok_gaze nor tok_cam "
                f"({list(cfg.modality_names)}); its decoder stage serves gaze/camera targets"
            )
        for i, m in enumerate(cfg.modalities):
            mods.append(
                _entry(
                    i,
                    m.name,
                    m.vocab_size,
                    m.token_shape,
                    m.pos_emb,
                    comps,
                    True,
                    m.name in targets,
                )
            )
        vmax = max(cfg.spec(t).vocab_size for t in targets)
        backbone = BackboneSpec(cfg.dim, vmax, tuple(sorted(targets)))
        defaults = reference_decoding_defaults()
        grow = bool(defaults.pop("grow_conditioning"))
        defaults["top_k"] = float(defaults["top_k"])
        per_target = {
            t: DecodingDefaults(steps=DEFAULT_STEPS.get(t, 1), **defaults) for t in sorted(targets)
        }
        cond = (
            ("tok_rgb",)
            if "tok_rgb" in cfg.modality_names
            else tuple(n for n in cfg.modality_names if n not in targets)
        )
        decoding = DecodingSpec(per_target, targets, cond, grow_conditioning=grow)
    else:
        rows = []
        if video is not None:
            rows.append(("tok_rgb", video.vocab_size, video.token_grid, "sincos_3d"))
        for name, role in _TRAJ_ROLE.items():
            if role in comps:
                cfg = comps[role].model.config
                rows.append((name, cfg.codebook_size, (cfg.num_tokens,), "sincos_1d"))
        for i, row in enumerate(sorted(rows)):
            mods.append(_entry(i, *row, comps, False, False))
    return BundlePlan(stages, tuple(mods), video, trajectory, backbone, decoding)
