"""FSQ: the id layout (channel 0 least significant), code values and the id round trip."""

from __future__ import annotations

import itertools

import numpy as np
import torch
from safetensors.torch import load_file

from egom2p_edge.models.video.fsq import FSQ

LEVELS = (8, 8, 8, 5, 5, 5)


def _latents_for(fsq: FSQ, codes: torch.Tensor) -> torch.Tensor:
    """Pre-FSQ latents that land exactly on ``codes`` (inverse of the tanh bound)."""
    levels = torch.tensor(fsq.levels, dtype=torch.float64)
    half_l = (levels - 1) * 1.001 / 2
    offset = torch.where(levels % 2 == 0, 0.5, 0.0)
    half_width = torch.floor(levels / 2)
    c = codes.permute(0, 2, 3, 4, 1).double()
    z = torch.atanh((c * half_width + offset) / half_l) - torch.atanh(offset / half_l)
    return z.permute(0, 4, 1, 2, 3).float()


def test_basis_and_vocab():
    fsq = FSQ(LEVELS)
    assert fsq.vocab_size == 64000
    assert fsq._basis.tolist() == [1, 8, 64, 512, 2560, 12800]  # README


def test_codes_of_ids_follow_the_digit_layout():
    fsq = FSQ(LEVELS)
    ids = torch.arange(64000).reshape(1, 64000, 1, 1)
    codes = fsq.ids_to_codes(ids)[0, :, :, 0, 0].T  # (64000, 6)
    # Independent decomposition: mixed radix with channel 0 least significant.
    digits = np.array(list(itertools.product(*[range(v) for v in reversed(LEVELS)])))[:, ::-1]
    half = np.array([v // 2 for v in LEVELS])
    expected = (digits - half) / half
    assert np.array_equal(codes.numpy(), expected.astype(np.float32))
    assert codes.min() == -1.0 and codes.max() == 1.0


def test_every_id_round_trips():
    fsq = FSQ(LEVELS)
    ids = torch.arange(64000).reshape(1, 10, 80, 80)
    codes = fsq.ids_to_codes(ids)
    ids_back, codes_back = fsq(_latents_for(fsq, codes))
    assert ids_back.dtype == torch.int64
    assert torch.equal(ids_back, ids)
    assert torch.equal(codes_back, codes)


def test_codes_carry_a_straight_through_gradient():
    fsq = FSQ(LEVELS)
    z = torch.randn(2, 6, 3, 4, 4, requires_grad=True)
    _, codes = fsq(z)
    codes.sum().backward()
    assert z.grad is not None and (z.grad > 0).all()  # d tanh > 0 everywhere


def test_fixture_latents_give_fixture_ids_and_codes(parity_dir):
    fx = load_file(str(parity_dir / "video_tokenizer" / "fixtures.safetensors"))
    ids, codes = FSQ(LEVELS)(fx["latents_pre_fsq"])
    assert torch.equal(ids, fx["indices"].long())
    assert torch.equal(codes, fx["codes"])
    assert torch.equal(FSQ(LEVELS).ids_to_codes(fx["indices"]), fx["codes"])
