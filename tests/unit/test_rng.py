"""PortableRng known answers, derived by hand from the algorithm in ``egom2p_edge.rng``.

Derivation (Python big integers, straight from the definition, not through the module):
``mix64`` is SplitMix64's output function, so ``mix64(GAMMA * k)`` for k = 1, 2, 3 is the
published SplitMix64 stream of seed 0: 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4,
0x06C45D188009454F; and of seed 1234567: 6457827717110365317, 3203168211198807973,
9817491932198370423, 4593380528125082431, 16408922859458223821.
Step key of (seed 0, step 0) = mix64(0 + GAMMA * 1) = 0xE220A8397B1DCDAF. Its draws
mix64(key + GAMMA * c), c = 1..4: 0xA706DD2F4D197E6F, 0xB382A305F4414F5E, 0x631A9154FBABF717,
0xA80ABA8C86640906; their top 24 bits (x >> 40): 10946269, 11764387, 6494865, 11012794.
Step key of (seed 7, step 2) = mix64(7 + GAMMA * 3) = 0xE6984080BAB12A02; first draw >> 40 =
10257628.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from egom2p_edge.rng import GAMMA, DecodingRng, PortableRng, mix64, step_key


def test_mix64_gives_published_splitmix64_streams():
    assert [mix64(GAMMA * k) for k in (1, 2, 3)] == [
        0xE220A8397B1DCDAF,
        0x6E789E6AA1B965F4,
        0x06C45D188009454F,
    ]
    s = 1234567
    assert [mix64(s + GAMMA * k) for k in range(1, 6)] == [
        6457827717110365317,
        3203168211198807973,
        9817491932198370423,
        4593380528125082431,
        16408922859458223821,
    ]


def test_step_key_and_draws():
    assert step_key(0, 0) == 0xE220A8397B1DCDAF
    assert step_key(7, 2) == 0xE6984080BAB12A02
    rng = PortableRng(0)
    rng.begin_step(0)
    assert [int(x) for x in rng.next_u64(4)] == [
        0xA706DD2F4D197E6F,
        0xB382A305F4414F5E,
        0x631A9154FBABF717,
        0xA80ABA8C86640906,
    ]


def test_uniform_has_24_exact_bits():
    rng = PortableRng(7)
    rng.begin_step(2)
    u = rng.uniform(1)
    assert u.dtype == np.float32 and float(u[0]) == 10257628 / 2**24


def test_order_sorts_unknown_positions_by_draw():
    # Keys of positions 0..3: A706.., B382.., 631A.., A80A.. -> ascending: 2, 0, 3, 1.
    rng = PortableRng(0)
    rng.begin_step(0)
    assert rng.order(torch.zeros(4, dtype=torch.bool)).tolist() == [2, 0, 3, 1]
    # Position 0 known: unknown 1, 2, 3 by key (B382, 631A, A80A) -> 2, 3, 1; then known 0.
    rng.begin_step(0)
    assert rng.order(torch.tensor([True, False, False, False])).tolist() == [2, 3, 1, 0]


def test_sample_by_inverse_cdf():
    # Draws of (0, 0) >> 40 / 2^24: 0.6525, 0.7012, 0.3871, 0.6564.
    probs = torch.tensor(
        [
            [0.5, 0.5, 0.0, 0.0],  # t = 0.6525 -> cdf .5, 1.0 -> index 1
            [0.25, 0.25, 0.25, 0.25],  # t = 0.7012 -> first cdf > t is 0.75 -> index 2
            [0.0, 0.5, 0.0, 0.5],  # t = 0.3871 -> index 1 (index 0 has p = 0)
            [1.0, 0.0, 0.0, 0.0],  # anything -> index 0
        ]
    )
    rng = PortableRng(0)
    rng.begin_step(0)
    assert rng.sample(probs).tolist() == [1, 2, 1, 0]


def test_sample_never_picks_zero_probability():
    rng = PortableRng(3)
    probs = torch.zeros(64, 10)
    probs[:, 3] = 0.25
    probs[:, 7] = 0.75
    for step in range(5):
        rng.begin_step(step)
        assert set(rng.sample(probs).tolist()) <= {3, 7}


def test_streams_depend_on_seed_and_step_only():
    a, b = PortableRng(5), PortableRng(5)
    a.begin_step(1)
    a.next_u64(10)  # drawing in step 1 does not affect step 2
    a.begin_step(2)
    b.begin_step(2)
    assert np.array_equal(a.next_u64(3), b.next_u64(3))
    c = PortableRng(6)
    c.begin_step(2)
    b.begin_step(2)
    assert not np.array_equal(b.next_u64(3), c.next_u64(3))


def test_bad_use_is_reported():
    rng = PortableRng(0)
    with pytest.raises(ValueError, match="begin_step"):
        rng.next_u64(1)
    rng.begin_step(0)
    with pytest.raises(ValueError, match="no probability mass"):
        rng.sample(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="finite"):
        rng.sample(torch.tensor([[float("nan"), 1.0]]))
    with pytest.raises(ValueError, match="seed"):
        PortableRng(1.5)  # type: ignore[arg-type]


def test_satisfies_protocol():
    assert isinstance(PortableRng(0), DecodingRng)
