"""The data stream (ResumableSampler), the learning-rate schedule and the optimiser groups."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from egom2p_edge.training.trainers.config import OptimConfig, RunConfig
from egom2p_edge.training.trainers.sampler import ResumableSampler, epoch_permutation
from egom2p_edge.training.trainers.schedule import lr_at, param_groups


def _take(sampler, n):
    return list(itertools.islice(iter(sampler), n))


def test_start_offset_equals_skipping_the_stream():
    full = _take(ResumableSampler(7, seed=1), 30)
    assert _take(ResumableSampler(7, seed=1, start=11), 19) == full[11:]
    for e in range(4):  # every epoch is a permutation
        assert sorted(full[7 * e : 7 * e + 7]) == list(range(7))
    assert full[:7] != full[7:14]  # and epochs differ


def test_ranks_split_each_epoch_evenly_and_cover_it():
    n, world = 10, 3
    per_rank = [_take(ResumableSampler(n, 5, r, world), 4) for r in range(world)]
    got = sorted(i for part in per_rank for i in part)
    assert set(got) == set(range(n)) and len(got) == 12  # padded by wrapping: 2 repeats
    pairs = _take(ResumableSampler(n, 5, 1, world, with_epoch=True), 8)
    assert [e for _, e in pairs] == [0, 0, 0, 0, 1, 1, 1, 1]


def test_blocks_keep_items_of_one_shard_together():
    order = epoch_permutation(9, seed=0, epoch=0, blocks=[3, 3, 3])
    assert sorted(order.tolist()) == list(range(9))
    for k in range(3):  # each run of three consecutive items is one shard
        assert len({int(i) // 3 for i in order[3 * k : 3 * k + 3]}) == 1
    with pytest.raises(ValueError, match="blocks"):
        epoch_permutation(9, 0, 0, blocks=[3, 3])


def test_sampler_rejects_bad_arguments():
    with pytest.raises(ValueError, match="empty"):
        ResumableSampler(0, 0)
    with pytest.raises(ValueError, match="rank"):
        ResumableSampler(4, 0, rank=2, world_size=2)


def test_warmup_then_cosine():
    cfg = OptimConfig(blr=1e-3, warmup_steps=10, min_lr=1e-5)
    peak = cfg.peak_lr(512)
    assert peak == pytest.approx(2e-3)  # blr * 512 / 256
    assert lr_at(0, 100, peak, cfg) == 0.0
    assert lr_at(5, 100, peak, cfg) == pytest.approx(peak / 2)
    assert lr_at(10, 100, peak, cfg) == pytest.approx(peak)
    assert lr_at(55, 100, peak, cfg) == pytest.approx(1e-5 + (peak - 1e-5) / 2)
    assert lr_at(100, 100, peak, cfg) == pytest.approx(1e-5)
    lrs = [lr_at(s, 100, peak, cfg) for s in range(10, 101)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))
    assert OptimConfig(lr=0.5).peak_lr(8) == 0.5


def test_weight_decay_only_on_weight_matrices():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))
    model.register_parameter("mask_token", torch.nn.Parameter(torch.zeros(1, 1, 4)))
    decay, no_decay = param_groups(model, 0.05)
    assert [p.shape for p in decay["params"]] == [torch.Size([4, 4])]
    assert len(no_decay["params"]) == 4 and no_decay["weight_decay"] == 0.0


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(blr=-1.0), "blr"),
        (dict(betas=(0.9, 1.0)), "betas"),
        (dict(warmup_steps=-1), "warmup_steps"),
        (dict(clip_grad=0.0), "clip_grad"),
        (dict(lr=math.nan), "lr"),
    ],
)
def test_optim_config_rejects_bad_values(kw, match):
    with pytest.raises(ValueError, match=match):
        OptimConfig(**kw)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(steps=0), "steps"),
        (dict(stop_at=11), "stop_at"),
        (dict(resume=True, overwrite=True), "resume"),
        (dict(val_fraction=1.0), "val_fraction"),
    ],
)
def test_run_config_rejects_bad_values(tmp_path, kw, match):
    with pytest.raises(ValueError, match=match):
        RunConfig(out_dir=tmp_path, steps=kw.pop("steps", 10), **kw)


def test_cuda_device_without_cuda_is_a_value_error():
    from egom2p_edge.training.trainers.distributed import DistContext

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="--device cpu"):
        DistContext.setup("cuda")
    ctx = DistContext.setup("cpu")
    assert (ctx.rank, ctx.world_size, ctx.is_main, ctx.mean(2.5)) == (0, 1, True, 2.5)
