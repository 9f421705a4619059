"""`egom2p build-engines`: profiles from the manifest, the cache key, engine records in the
manifest, the clear refusal where TensorRT is missing; engine builds where it exists (``trt``)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from export_helpers import run_cli

from egom2p_edge.bundle import load_bundle, names
from egom2p_edge.bundle.engines import EngineRecord, engine_file


@pytest.fixture
def traj_copy(tiny_traj_bundle, tmp_path):
    dst = tmp_path / "bundle"
    shutil.copytree(tiny_traj_bundle.path, dst)
    return dst


def test_profiles_cover_every_dynamic_axis(tiny_bundle) -> None:
    from egom2p_edge.export.tensorrt_profiles import axis_ranges, stage_profile

    m = load_bundle(tiny_bundle.path, check_hashes=False).manifest
    for stage, spec in m.stages.items():
        profile = stage_profile(m, stage, axis_ranges(m, stage, max_batch=2))
        assert set(profile) == {t.name for t in spec.inputs}
        for t in spec.inputs:
            p = profile[t.name]
            for k, d in enumerate(t.shape):
                lo, opt, hi = p["min"][k], p["opt"][k], p["max"][k]
                assert 1 <= lo <= opt <= hi
                if isinstance(d, int):
                    assert lo == opt == hi == d
    enc = stage_profile(m, names.BACKBONE_ENCODER, axis_ranges(m, names.BACKBONE_ENCODER))
    rgb, gaze, cam = (m.modality(x).num_tokens for x in ("rgb", "gaze", "cam"))
    assert enc[names.INPUT_IDS]["max"] == (2, rgb + gaze + cam)
    dec = stage_profile(
        m, names.BACKBONE_DECODER, axis_ranges(m, names.BACKBONE_DECODER, 4, 4, 9000)
    )
    assert dec[names.CONTEXT]["max"] == (4, 9000, m.backbone.dim)
    assert dec[names.TARGET_MODALITY]["max"] == (4, gaze + cam)


def test_cache_key_changes_with_each_ingredient() -> None:
    from egom2p_edge.export.tensorrt_profiles import cache_key

    profile = {"x": {"min": (1, 2), "opt": (1, 2), "max": (4, 2)}}
    base = ("10.3.0", "Orin", "8.7", profile, "a" * 64, {"strongly_typed": True})
    key = cache_key(*base)
    assert len(key) == 64 and key == cache_key(*base)
    other_profile = {"x": {"min": (1, 2), "opt": (2, 2), "max": (4, 2)}}
    variants = [
        ("10.4.0", *base[1:]),
        (base[0], "RTX 4090", *base[2:]),
        (*base[:3], other_profile, *base[4:]),
        (*base[:4], "b" * 64, base[5]),
        (*base[:5], {"strongly_typed": False}),
    ]
    assert len({cache_key(*v) for v in variants} | {key}) == len(variants) + 1


def test_missing_tensorrt_is_explained(tiny_traj_bundle) -> None:
    from egom2p_edge.export.tensorrt_env import probe

    if probe().ok:
        pytest.skip("TensorRT and a GPU are available here")
    rc, out, err = run_cli("build-engines", str(tiny_traj_bundle.path))
    assert rc == 3 and out == ""
    assert "cannot be built here" in err and "JetPack" in err and "nvidia-jetpack" in err
    assert "tensorrt" in err.lower() and "egom2p verify BUNDLE --engine tensorrt" in err


def test_trtexec_commands_work_anywhere(tiny_traj_bundle) -> None:
    rc, out, _ = run_cli("build-engines", str(tiny_traj_bundle.path), "--trtexec",
                         "--stages", names.CAM_ENCODER)  # fmt: skip
    assert rc == 0
    line = out.splitlines()[0]
    assert line.startswith("trtexec --onnx=") and "--stronglyTyped" in line
    assert "--minShapes=cam_9d_norm:1x60x9" in line and "--maxShapes=cam_9d_norm:4x60x9" in line
    rc, _, err = run_cli("build-engines", str(tiny_traj_bundle.path), "--stages", "teleporter")
    assert rc == 2 and "no stage" in err


def test_engine_records_go_into_the_manifest(traj_copy) -> None:
    from egom2p_edge.export.tensorrt_build import record_engines

    m = load_bundle(traj_copy).manifest

    def record(stage: str, key: str, gpu: str = "Orin") -> EngineRecord:
        spec = m.stages[stage]
        shape = {t.name: (1, *t.shape[1:]) for t in spec.inputs}
        profile = {n: {"min": s, "opt": s, "max": s} for n, s in shape.items()}
        return EngineRecord(stage, engine_file(stage, key), "fp32", "10.3.0", gpu, "8.7", profile,
                            m.file(spec.file).sha256, key, "2026-01-01T00:00:00Z", {})  # fmt: skip

    first = record(names.CAM_ENCODER, "1" * 64)
    b = record_engines(traj_copy, [(first, b"engine-bytes-1")])
    assert b.manifest.engines == (first,)
    assert (traj_copy / first.file).read_bytes() == b"engine-bytes-1"
    assert first.file in {f.name for f in b.manifest.files}
    # A rebuild for the same stage, TensorRT and GPU replaces the record and its file.
    second = record(names.CAM_ENCODER, "2" * 64)
    other_gpu = record(names.CAM_ENCODER, "3" * 64, gpu="RTX 4090")
    b = record_engines(traj_copy, [(second, b"engine-bytes-2"), (other_gpu, b"x")])
    assert list(b.manifest.engines) == [second, other_gpu]
    assert not (traj_copy / first.file).exists()
    assert load_bundle(traj_copy).manifest.engines == b.manifest.engines  # hashes check out
    data = json.loads((traj_copy / names.MANIFEST_FILE).read_text())
    assert [e["gpu_name"] for e in data["engines"]] == ["Orin", "RTX 4090"]


def test_verify_with_tensorrt_says_what_is_missing(tiny_traj_bundle) -> None:
    from egom2p_edge.export.tensorrt_env import probe

    if probe().ok:
        pytest.skip("TensorRT and a GPU are available here")
    rc, out, _ = run_cli("verify", str(tiny_traj_bundle.path), "--engine", "tensorrt")
    assert rc == 1 and "TensorRT is not usable here" in out


@pytest.mark.trt
@pytest.mark.gpu
def test_build_engines_and_verify_them(fp16_bundle, tmp_path) -> None:
    """On a TensorRT machine: every stage of the ego-tiny fp16 bundle builds, is cached, and
    reproduces the fp32 reference within fp16 agreement."""
    bundle = tmp_path / "fp16"
    shutil.copytree(fp16_bundle.path, bundle)
    cache = tmp_path / "cache"
    rc, out, err = run_cli("build-engines", str(bundle), "--cache", str(cache))
    assert rc == 0, out + err
    m = load_bundle(bundle).manifest
    assert {r.stage for r in m.engines} == set(m.stages)
    assert len(list(cache.glob("*.engine"))) == len(m.stages)
    rc, out, err = run_cli("build-engines", str(bundle), "--cache", str(cache))
    assert rc == 0 and out.count("(cache)") == len(m.stages)  # second run: all from the cache
    from egom2p_edge.export.verify import verify_bundle

    report = verify_bundle(bundle, engine="tensorrt", run_validation=False)
    for row in report.precision.stage_rows:
        if row.total:
            assert row.rate >= 0.95, row.line()
    cam = [s for s in report.stages if s.stage == names.CAM_DECODER][0]
    assert cam.ok, cam.lines()  # fp32 stage within the goldens' tolerance
    assert np.isfinite([r.max_abs_diff for r in report.precision.stage_rows]).all()
