"""`egom2p export` refuses misfit components and broken checkpoints with a clear message."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from export_helpers import run_cli

torch = pytest.importorskip("torch")


def _export(tmp_path: Path, *args: str) -> tuple[int, str]:
    rc, out, err = run_cli("export", "--target", "cpu-fp32", "--out", str(tmp_path / "out"), *args)
    assert not (tmp_path / "out").exists() or rc == 0  # nothing half-written on failure
    return rc, out + err


def test_backbone_video_vocab_smaller_than_codebook(parity_dir, tiny_checkpoints, tmp_path):
    bb = parity_dir / "backbone" / "checkpoint.pth"
    video = tiny_checkpoints["video_tokenizer"]
    rc, msg = _export(tmp_path, "--model", str(bb), "--video-tokenizer", str(video))
    assert rc == 1
    assert str(bb) in msg and str(video) in msg
    assert "1000" in msg and "64000" in msg and "smaller" in msg


def test_traj_vocab_differs_from_codebook(tiny_checkpoints, tmp_path):
    from egom2p_edge.models.vqvae import VQVAE, preset, save_vqvae

    cam = tmp_path / "cam512"
    save_vqvae(VQVAE(preset("tiny", "cam", codebook_size=512), seed=0), cam)
    bb = tiny_checkpoints["backbone"]
    rc, msg = _export(tmp_path, "--model", str(bb), "--cam-tokenizer", str(cam))
    assert rc == 1
    assert str(bb) in msg and str(cam) in msg and "256" in msg and "512" in msg


def test_video_grid_differs_from_backbone_layout(tiny_checkpoints, tmp_path):
    from egom2p_edge.checkpoints.sdk_format import save_checkpoint
    from egom2p_edge.models.video import VideoTokenizer, VideoTokenizerConfig

    cfg = VideoTokenizerConfig(
        channels=4, num_res_blocks=1, patch_size=8, spatial_compression=16, temporal_compression=8
    )
    with torch.random.fork_rng(devices=[]):
        model = VideoTokenizer(cfg)
    video = tmp_path / "video8"
    save_checkpoint(video, "video_tokenizer", cfg.to_dict(), model.state_dict())
    bb = tiny_checkpoints["backbone"]
    rc, msg = _export(tmp_path, "--model", str(bb), "--video-tokenizer", str(video))
    assert rc == 1
    assert str(bb) in msg and str(video) in msg and "(3, 16, 16)" in msg and "(5, 16, 16)" in msg


def test_tokenizer_given_for_the_wrong_modality(tiny_checkpoints, tmp_path):
    gaze = tiny_checkpoints["gaze_tokenizer"]
    rc, msg = _export(tmp_path, "--cam-tokenizer", str(gaze))
    assert rc == 1 and "is a gaze tokenizer" in msg and "--cam-tokenizer" in msg


def test_wrong_checkpoint_kind(tiny_checkpoints, tmp_path):
    rc, msg = _export(tmp_path, "--model", str(tiny_checkpoints["cam_tokenizer"]))
    assert rc == 1 and "'vqvae' checkpoint" in msg and "backbone" in msg


@pytest.mark.parametrize(
    "role,field,value",
    [("cam_tokenizer", "dim", 32), ("backbone", "dim", 96), ("video_tokenizer", "channels", 4)],
)
def test_config_that_does_not_match_the_tensors(tiny_checkpoints, tmp_path, role, field, value):
    ckpt = tmp_path / role
    shutil.copytree(tiny_checkpoints[role], ckpt)
    header = json.loads((ckpt / "config.json").read_text())
    header["config"][field] = value
    (ckpt / "config.json").write_text(json.dumps(header))
    option = {
        "cam_tokenizer": "--cam-tokenizer",
        "backbone": "--model",
        "video_tokenizer": "--video-tokenizer",
    }[role]
    rc, msg = _export(tmp_path, option, str(ckpt))
    assert rc == 1
    assert str(ckpt) in msg and ("do not match" in msg or "does not fit" in msg)


def test_missing_checkpoint(tmp_path):
    rc, msg = _export(tmp_path, "--gaze-tokenizer", str(tmp_path / "nope"))
    assert rc == 1 and "nope" in msg and "missing" in msg


def test_nothing_to_export(tmp_path):
    rc, msg = _export(tmp_path)
    assert rc == 2 and "nothing to export" in msg


def test_out_folder_that_is_not_a_bundle(tiny_checkpoints, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "precious.txt").write_text("keep me")
    rc, out, err = run_cli(
        "export",
        "--target",
        "cpu-fp32",
        "--out",
        str(tmp_path / "out"),
        "--cam-tokenizer",
        str(tiny_checkpoints["cam_tokenizer"]),
    )
    assert rc == 1 and "non-empty folder" in err
    assert (tmp_path / "out" / "precious.txt").read_text() == "keep me"


def test_unknown_target_is_an_argument_error(tiny_checkpoints, tmp_path):
    with pytest.raises(SystemExit) as exc:
        run_cli(
            "export",
            "--target",
            "cpu-fp64",
            "--out",
            str(tmp_path / "o"),
            "--cam-tokenizer",
            str(tiny_checkpoints["cam_tokenizer"]),
        )
    assert exc.value.code == 2


def test_export_replaces_a_previous_bundle(tiny_traj_bundle, tiny_checkpoints, tmp_path):
    from egom2p_edge.bundle import load_bundle

    out = tmp_path / "out"
    shutil.copytree(tiny_traj_bundle.path, out)
    rc, _, err = run_cli("export", "--target", "cpu-fp32", "--out", str(out),
                         "--cam-tokenizer", str(tiny_checkpoints["cam_tokenizer"]))  # fmt: skip
    assert rc == 0, err
    assert load_bundle(out).stages == ("cam_encoder", "cam_decoder")
    assert not (out / "gaze_encoder.onnx").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folders left
