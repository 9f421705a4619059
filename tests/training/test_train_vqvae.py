"""The VQ-VAE trainer: it learns, resumes exactly, writes what it says, and syncs codebooks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from train_helpers import tiny_vq_config

from egom2p_edge.checkpoints.sdk_format import load_checkpoint, state_dicts_equal
from egom2p_edge.clips import ClipDatasetWriter
from egom2p_edge.models.vqvae import load_vqvae
from egom2p_edge.training.trainers import OptimConfig, RunConfig, train_vqvae
from egom2p_edge.training.trainers.data import load_trajectories

OPTIM = OptimConfig(lr=2e-3, betas=(0.9, 0.99), warmup_steps=2)


@pytest.fixture(scope="module")
def cam_data(synth_clips):
    return load_trajectories(synth_clips, "cam")


def _run(out, **kw) -> RunConfig:
    base = dict(out_dir=out, steps=6, batch_size=4, progress=False, val_fraction=0.25)
    return RunConfig(**{**base, **kw})


def test_loss_goes_down_on_a_fixed_batch(tmp_path, cam_data):
    # val_fraction 0 and batch = all 8 clips: every step sees the same batch.
    run = _run(tmp_path / "run", steps=12, batch_size=8, val_fraction=0.0)
    res = train_vqvae(cam_data, "cam", run, tiny_vq_config("cam"), OPTIM)
    assert len(res.losses) == 12
    assert np.mean(res.losses[-3:]) < 0.6 * np.mean(res.losses[:3])
    # The reconstruction through the tokens improves too (metrics on the same clips).
    assert res.final_metrics["val_loss"] < res.initial_metrics["val_loss"]
    assert res.final_metrics["rte_m"] < res.initial_metrics["rte_m"]


def test_resume_continues_exactly_and_writes_its_outputs(tmp_path, cam_data, synth_clips):
    cfg = tiny_vq_config("cam")
    full = train_vqvae(cam_data, "cam", _run(tmp_path / "a", eval_every=3), cfg, OPTIM)
    first = train_vqvae(cam_data, "cam", _run(tmp_path / "b", stop_at=3), cfg, OPTIM)
    assert not first.complete and first.steps == 3
    second = train_vqvae(cam_data, "cam", _run(tmp_path / "b", resume=True), cfg, OPTIM)
    assert second.complete and second.steps == 6
    assert first.losses + second.losses == full.losses  # bit-identical loss sequence
    _, _, wa, _ = load_checkpoint(tmp_path / "a" / "checkpoint")
    _, _, wb, prov = load_checkpoint(tmp_path / "b" / "checkpoint")
    assert state_dicts_equal(wa, wb)  # codebook buffers included
    assert prov["steps"] == 6 and prov["complete"]
    steps = [json.loads(line)["step"] for line in open(tmp_path / "b" / "train_log.jsonl")]
    assert steps == [1, 2, 3, 4, 5, 6]
    assert second.initial_metrics == first.initial_metrics  # read back from the eval log

    out = tmp_path / "a"  # what an uninterrupted run leaves behind
    assert full.checkpoint == out / "checkpoint"
    assert load_vqvae(full.checkpoint).config == cfg
    _, _, _, prov = load_checkpoint(full.checkpoint)
    assert prov["origin"] == "trained" and prov["trained"] is True and prov["steps"] == 6
    assert prov["data"]["path"] == str(synth_clips.resolve())
    assert prov["data"]["train_clips"] == 6 and prov["data"]["eval_clips"] == 2
    assert set(prov["final_metrics"]) >= {"val_loss", "ate_m", "rte_m", "rre_deg", "codes_used"}
    evals = [json.loads(line) for line in open(out / "eval_log.jsonl")]
    assert [e["step"] for e in evals] == [0, 3, 6]
    assert evals[-1]["ate_m"] == pytest.approx(full.final_metrics["ate_m"])
    assert (out / "loss_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "train_state.pt").is_file() and (out / "run.json").is_file()
    assert str(out / "checkpoint") in full.summary("cam")


def test_gaze_tokenizer_reports_gaze_mse(tmp_path, synth_clips):
    run = _run(tmp_path / "gaze", steps=2)
    res = train_vqvae(synth_clips, "gaze", run, tiny_vq_config("gaze"), OPTIM)
    assert np.isfinite(res.final_metrics["gaze_mse"]) and res.final_metrics["gaze_mse"] >= 0


def test_bad_runs_are_refused(tmp_path, cam_data):
    cfg = tiny_vq_config("cam")
    train_vqvae(cam_data, "cam", _run(tmp_path / "r", steps=1), cfg, OPTIM)
    with pytest.raises(FileExistsError, match="--resume"):
        train_vqvae(cam_data, "cam", _run(tmp_path / "r", steps=1), cfg, OPTIM)
    with pytest.raises(ValueError, match="already reached step 1"):
        train_vqvae(cam_data, "cam", _run(tmp_path / "r", steps=1, resume=True), cfg, OPTIM)
    with pytest.raises(FileNotFoundError, match="holds no resumable run"):
        train_vqvae(cam_data, "cam", _run(tmp_path / "new", resume=True), cfg, OPTIM)
    with pytest.raises(ValueError, match="model_config"):
        other = tiny_vq_config("cam").__class__("cam", dim=16, depth=1, heads=2)
        train_vqvae(cam_data, "cam", _run(tmp_path / "r", steps=2, resume=True), other, OPTIM)
    with pytest.raises(ValueError, match="config is for gaze"):
        train_vqvae(cam_data, "cam", _run(tmp_path / "x"), tiny_vq_config("gaze"), OPTIM)


def test_dataset_without_the_modality_is_refused(tmp_path, synth_clips):
    from egom2p_edge.clips import ClipDataset

    clip = ClipDataset(synth_clips)[0]
    clip.gaze_xy_norm = clip.gaze_valid = clip.gaze_timestamps_ns = None
    with ClipDatasetWriter(tmp_path, "nogaze") as w:
        w.write(clip)
    with pytest.raises(ValueError, match="no clip has gaze"):
        train_vqvae(tmp_path / "nogaze", "gaze", _run(tmp_path / "r"), tiny_vq_config("gaze"))


def _ddp_worker(rank: int, world: int, folder: str, clips: str) -> None:
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"file://{folder}/store", rank=rank, world_size=world
    )
    try:
        run = RunConfig(out_dir=f"{folder}/run", steps=3, batch_size=2, progress=False)
        res = train_vqvae(clips, "cam", run, tiny_vq_config("cam"), OPTIM)
        cb = res.model.quantize.codebook
        torch.save(
            {
                "embed": cb.embed.clone(),
                "cluster_size": cb.cluster_size.clone(),
                "weight": res.model.encoder.conv.weight.detach().clone(),
            },
            f"{folder}/rank{rank}.pt",
        )
    finally:
        dist.destroy_process_group()


def test_two_gloo_processes_end_with_the_same_codebook(tmp_path, synth_clips, monkeypatch):
    import torch.multiprocessing as mp

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    mp.spawn(_ddp_worker, args=(2, str(tmp_path), str(synth_clips)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt") for r in range(2))
    assert torch.equal(r0["embed"], r1["embed"])
    assert torch.equal(r0["cluster_size"], r1["cluster_size"])
    assert float(r0["cluster_size"].sum()) > 0  # the EMA saw data
    assert torch.equal(r0["weight"], r1["weight"])  # DDP kept the weights in step
    _, _, _, prov = load_checkpoint(tmp_path / "run" / "checkpoint")
    assert prov["world_size"] == 2 and prov["global_batch"] == 4
