"""A bundle with a missing or altered file, a bad manifest or a newer format is refused clearly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from export_helpers import run_cli

from egom2p_edge.bundle import BundleError, load_bundle, names
from egom2p_edge.bundle.goldens import read_goldens, write_goldens
from egom2p_edge.files import sha256_file


@pytest.fixture
def bundle(tiny_traj_bundle, tmp_path: Path) -> Path:
    """A private copy of the small tokenizer bundle, to tamper with."""
    dst = tmp_path / "bundle"
    shutil.copytree(tiny_traj_bundle.path, dst)
    return dst


def _edit_manifest(path: Path, edit) -> None:
    data = json.loads((path / names.MANIFEST_FILE).read_text())
    edit(data)
    (path / names.MANIFEST_FILE).write_text(json.dumps(data))


def test_intact_copy_loads(bundle: Path) -> None:
    b = load_bundle(bundle)
    assert set(b.stages) == {
        names.CAM_ENCODER,
        names.CAM_DECODER,
        names.GAZE_ENCODER,
        names.GAZE_DECODER,
    }
    assert b.manifest.backbone is None and b.manifest.video is None


def test_missing_stage_file(bundle: Path) -> None:
    (bundle / "cam_decoder.onnx").unlink()
    with pytest.raises(BundleError, match=r"cam_decoder\.onnx is missing .*files\["):
        load_bundle(bundle)


def test_altered_file_same_size(bundle: Path) -> None:
    p = bundle / "gaze_encoder.onnx"
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"gaze_encoder\.onnx has sha256 .*sha256.*altered"):
        load_bundle(bundle)


def test_truncated_file(bundle: Path) -> None:
    p = bundle / names.GOLDENS_FILE
    p.write_bytes(p.read_bytes()[:-10])
    with pytest.raises(BundleError, match=r"goldens\.safetensors has \d+ bytes .*bytes says"):
        load_bundle(bundle)


def test_newer_format_version_refused_first(bundle: Path) -> None:
    def edit(d):
        d["format_version"] = names.FORMAT_VERSION + 1
        d["stages"] = "whatever a future version holds"  # never looked at

    _edit_manifest(bundle, edit)
    with pytest.raises(BundleError, match=r"'format_version' is 2, newer than this SDK reads"):
        load_bundle(bundle)
    rc, out, err = run_cli("verify", str(bundle))
    assert rc == 2 and "newer than this SDK" in err


def test_wrong_magic(bundle: Path) -> None:
    _edit_manifest(bundle, lambda d: d.update(magic="something-else"))
    with pytest.raises(BundleError, match=r"field 'magic' must be 'egom2p-edge-bundle'"):
        load_bundle(bundle)


def test_manifest_field_of_wrong_type(bundle: Path) -> None:
    _edit_manifest(bundle, lambda d: d["files"][0].update(bytes="12"))
    with pytest.raises(BundleError, match=r"bundle\.json: field 'files\[0\]\.bytes' must be"):
        load_bundle(bundle)


def test_manifest_missing_field(bundle: Path) -> None:
    _edit_manifest(bundle, lambda d: d["session_options"].pop("graph_optimization"))
    with pytest.raises(BundleError, match=r"'session_options\.graph_optimization' is missing"):
        load_bundle(bundle)


def test_manifest_shape_that_does_not_describe_the_graph(bundle: Path) -> None:
    _edit_manifest(
        bundle, lambda d: d["stages"]["cam_encoder"]["outputs"][0].update(shape=["batch", 31])
    )
    with pytest.raises(
        BundleError,
        match=r"cam_encoder\.onnx: output 'cam_ids' has shape "
        r"\['batch', 30\].*stages\.cam_encoder\.outputs",
    ):
        load_bundle(bundle)


def test_manifest_dtype_that_does_not_describe_the_graph(bundle: Path) -> None:
    _edit_manifest(bundle, lambda d: d["stages"]["gaze_decoder"]["inputs"][0].update(dtype="int32"))
    with pytest.raises(BundleError, match=r"gaze_decoder\.onnx: input 'gaze_ids' has dtype int64"):
        load_bundle(bundle)


def test_unknown_stage_in_manifest(bundle: Path) -> None:
    _edit_manifest(bundle, lambda d: d["stages"].update(teleporter=d["stages"]["cam_encoder"]))
    with pytest.raises(BundleError, match=r"'stages\.teleporter' is not a known stage"):
        load_bundle(bundle)


def test_missing_manifest_and_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_bundle(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match=r"bundle\.json is missing"):
        load_bundle(tmp_path)


def _rewrite_goldens(bundle: Path, edit) -> None:
    """Change a golden tensor and re-sign the file in the manifest (a consistent bundle)."""
    g = read_goldens(bundle / names.GOLDENS_FILE)
    edit(g)
    p = write_goldens(bundle / names.GOLDENS_FILE, g)

    def resign(d):
        for f in d["files"]:
            if f["name"] == names.GOLDENS_FILE:
                f.update(bytes=p.stat().st_size, sha256=sha256_file(p))

    _edit_manifest(bundle, resign)


def test_verify_fails_with_a_report_when_outputs_differ(bundle: Path) -> None:
    def perturb(g):
        g[names.GAZE_DECODER][names.GAZE_XY_NORM] = g[names.GAZE_DECODER][names.GAZE_XY_NORM] + 1e-3
        ids = g[names.CAM_ENCODER][names.CAM_IDS]
        g[names.CAM_ENCODER][names.CAM_IDS] = np.where(ids == 0, 1, 0).astype(np.int64)

    _rewrite_goldens(bundle, perturb)
    rc, out, _ = run_cli("verify", str(bundle))
    assert rc == 1
    assert "gaze_decoder: FAIL" in out and "cam_encoder: FAIL" in out
    assert "cam_decoder: PASS" in out and "gaze_encoder: PASS" in out
    assert "FAILED: 2 of 4 stages" in out


def test_golden_of_wrong_dtype_is_refused(bundle: Path) -> None:
    def cast(g):
        g[names.CAM_DECODER][names.CAM_IDS] = g[names.CAM_DECODER][names.CAM_IDS].astype(np.int32)

    _rewrite_goldens(bundle, cast)
    with pytest.raises(BundleError, match=r"golden tensor 'cam_decoder/cam_ids' is int32"):
        load_bundle(bundle)


def test_extra_file_is_tolerated(bundle: Path, caplog: pytest.LogCaptureFixture) -> None:
    (bundle / "README.txt").write_text("notes")
    load_bundle(bundle)
    assert "README.txt" in caplog.text
