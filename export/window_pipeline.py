"""The whole pipeline on evaluation windows through a set of stage graphs: tokenizers one by one
and the full decode (video -> rgb tokens -> gaze/camera tokens -> gaze and poses).

``run_windows`` returns flat arrays (``RESULT_KEYS``), each stacked over the windows:

- ``video_ids`` (W, t, h, w): ``video_encoder`` on the frames.
- ``frames_decoded`` (W, F, S, S, 3): ``video_decoder`` on the teacher's video ids.
- ``cam_ids`` / ``gaze_ids`` (W, K): the tokenizer encoders on the ground-truth windows.
- ``cam_T_recon`` (W, T, 4, 4) / ``gaze_xy_recon`` (W, T, 2): the tokenizer decoders on the
  teacher's ids.
- ``decode_tok_<target>`` (W, K), ``decode_T_window_camera`` (W, T, 4, 4), ``decode_gaze_xy_norm``
  (W, T, 2): the full decode from this pipeline's own rgb tokens with the bundle's decoding
  defaults, ``PortableRng(seed)``, all windows as one batch.

The teacher (the fp32 reference's results, or None for the reference itself) feeds the decoders
so that each decoder's error is measured alone; the full decode runs end to end.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from egom2p_edge.bundle import names
from egom2p_edge.bundle.manifest import Manifest
from egom2p_edge.export.eval_windows import EvalWindows
from egom2p_edge.export.stage_runner import OrtBackbone, StageRunner

Results = dict[str, np.ndarray]


def decode_possible(manifest: Manifest) -> bool:
    """True when the bundle can decode gaze/camera tokens from video alone."""
    d = manifest.decoding
    return (
        d is not None
        and names.VIDEO_ENCODER in manifest.stages
        and names.BACKBONE_ENCODER in manifest.stages
        and tuple(d.condition) == ("tok_rgb",)
    )


def decode_settings(manifest: Manifest, seed: int) -> dict[str, Any]:
    """How the full decode runs (recorded in the manifest's ``validation.decode``)."""
    d = manifest.decoding
    targets = list(d.default_targets)
    first = d.targets[targets[0]]
    return {
        "targets": targets,
        "condition": list(d.condition),
        "mode": first.mode,
        "steps": {t: d.targets[t].steps for t in targets},
        "scheme": first.scheme,
        "schedule": first.schedule,
        "temperature": first.temperature,
        "temperature_schedule": first.temperature_schedule,
        "guidance_scale": first.guidance_scale,
        "top_p": first.top_p,
        "top_k": first.top_k,
        "grow_conditioning": d.grow_conditioning,
        "rng": "PortableRng",
        "seed": seed,
        "batch": "all windows",
    }


def _decode(runner: StageRunner, manifest: Manifest, video_ids: np.ndarray, seed: int) -> Results:
    import torch

    from egom2p_edge.models.generation import generate
    from egom2p_edge.rng import PortableRng

    s = decode_settings(manifest, seed)
    result = generate(
        OrtBackbone(runner, manifest),
        {"tok_rgb": torch.from_numpy(video_ids)},
        s["targets"],
        mode=s["mode"],
        steps=s["steps"],
        scheme=s["scheme"],
        schedule=s["schedule"],
        temperature=s["temperature"],
        temperature_schedule=s["temperature_schedule"],
        guidance_scale=s["guidance_scale"],
        top_p=s["top_p"],
        top_k=s["top_k"],
        rng=PortableRng(seed),
        grow_conditioning=s["grow_conditioning"],
    )
    out: Results = {}
    for target, tokens in result.tokens.items():
        ids = tokens.numpy().astype(np.int64)  # (W, K)
        out[f"decode_tok_{target}"] = ids
        if target == "tok_cam" and runner.has(names.CAM_DECODER):
            r = runner.run(names.CAM_DECODER, {names.CAM_IDS: ids})
            out["decode_T_window_camera"] = r[names.T_WINDOW_CAMERA]
        if target == "tok_gaze" and runner.has(names.GAZE_DECODER):
            r = runner.run(names.GAZE_DECODER, {names.GAZE_IDS: ids})
            out["decode_gaze_xy_norm"] = r[names.GAZE_XY_NORM]
    return out


def run_windows(
    runner: StageRunner,
    manifest: Manifest,
    windows: EvalWindows,
    teacher: Results | None = None,
    seed: int = 0,
    decode: bool = True,
) -> Results:
    """Every stage the runner has, on ``windows`` (see the module docstring)."""
    out: Results = {}
    teach = teacher if teacher is not None else out
    if runner.has(names.VIDEO_ENCODER) and windows.frames_uint8 is not None:
        ids = [
            runner.run(names.VIDEO_ENCODER, {names.FRAMES_UINT8: f[None]})[names.VIDEO_IDS]
            for f in windows.frames_uint8
        ]  # each (1, t, h, w)
        out["video_ids"] = np.concatenate(ids)  # (W, t, h, w)
    if runner.has(names.VIDEO_DECODER) and "video_ids" in teach:
        frames = [
            runner.run(names.VIDEO_DECODER, {names.VIDEO_IDS: i[None]})[names.FRAMES_UINT8]
            for i in teach["video_ids"]
        ]
        out["frames_decoded"] = np.concatenate(frames)  # (W, F, S, S, 3)
    if runner.has(names.CAM_ENCODER):
        out["cam_ids"] = runner.run(names.CAM_ENCODER, {names.CAM_9D_NORM: windows.cam_9d_norm})[
            names.CAM_IDS
        ]
    if runner.has(names.GAZE_ENCODER):
        out["gaze_ids"] = runner.run(names.GAZE_ENCODER, {names.GAZE_INPUT: windows.gaze_input})[
            names.GAZE_IDS
        ]
    if runner.has(names.CAM_DECODER) and "cam_ids" in teach:
        r = runner.run(names.CAM_DECODER, {names.CAM_IDS: teach["cam_ids"]})
        out["cam_T_recon"] = r[names.T_WINDOW_CAMERA]
    if runner.has(names.GAZE_DECODER) and "gaze_ids" in teach:
        r = runner.run(names.GAZE_DECODER, {names.GAZE_IDS: teach["gaze_ids"]})
        out["gaze_xy_recon"] = r[names.GAZE_XY_NORM]
    if decode and decode_possible(manifest) and "video_ids" in out:
        out.update(_decode(runner, manifest, out["video_ids"], seed))
    return out
