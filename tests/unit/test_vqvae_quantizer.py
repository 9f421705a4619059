"""The cosine-similarity EMA codebook quantizer: search, lookup, EMA, dead codes, gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from egom2p_edge.models.vqvae.codebook_sync import sample_rows, split_count
from egom2p_edge.models.vqvae.quantizer import CosineCodebook, VectorQuantizer


def _quantizer(embed, decay=0.9, threshold=0.0, beta=1.0, cluster=None) -> VectorQuantizer:
    embed = torch.as_tensor(embed, dtype=torch.float32)
    vq = VectorQuantizer(embed.shape[0], embed.shape[1], decay, threshold, beta, sync=False)
    vq.codebook.embed.copy_(embed)
    if cluster is not None:
        vq.codebook.cluster_size.copy_(torch.as_tensor(cluster, dtype=torch.float32))
    return vq


def _z(rows) -> torch.Tensor:
    """Latent vectors (N, D) as one channels-first batch (1, D, N)."""
    return torch.as_tensor(rows, dtype=torch.float32).t()[None]


def test_search_is_cosine_but_lookup_returns_stored_rows():
    # Euclidean nearest to (5, 5) is (5, 4); by angle it is the short row (0.1, 0.1).
    vq = _quantizer([[5.0, 4.0], [0.1, 0.1], [-1.0, 0.0]]).eval()
    out = vq(_z([[5.0, 5.0], [-3.0, 0.5]]))
    assert out.indices.tolist() == [[1, 2]]
    assert out.quantized.dtype == torch.float32
    rows = np.array([[0.1, 0.1], [-1.0, 0.0]], dtype=np.float32)
    np.testing.assert_array_equal(out.quantized[0].t().numpy(), rows)
    np.testing.assert_array_equal(vq.embed_indices(out.indices).numpy(), out.quantized.numpy())
    assert out.loss.shape == (1,) and float(out.loss) == 0.0


def test_eval_mode_never_changes_the_codebook():
    vq = _quantizer(torch.randn(8, 4), threshold=100.0).eval()
    before = {k: v.clone() for k, v in vq.state_dict().items()}
    vq(torch.randn(2, 4, 6))
    for k, v in vq.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_ema_update_known_answer():
    decay = 0.75
    embed = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    z = np.array([[2.0, 0.1], [1.0, -0.1], [0.0, 5.0]], dtype=np.float32)  # codes 0, 0, 1
    vq = _quantizer(embed, decay=decay, cluster=[1.0, 2.0, 3.0]).train()
    out = vq(_z(z))
    assert out.indices.tolist() == [[0, 0, 1]]
    # Independent numpy computation of the official update.
    unit = z / np.linalg.norm(z, axis=1, keepdims=True)
    bins = np.array([2.0, 1.0, 0.0])
    mean0 = (unit[0] + unit[1]) / 2
    new = np.stack([mean0 / np.linalg.norm(mean0), unit[2], embed[2] / 5.0])  # code 2: own row
    np.testing.assert_allclose(
        vq.codebook.cluster_size.numpy(),
        decay * np.array([1.0, 2.0, 3.0]) + (1 - decay) * bins,
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        vq.codebook.embed.numpy(), decay * embed + (1 - decay) * new, rtol=1e-6, atol=1e-7
    )


def test_straight_through_and_commitment_loss():
    beta = 0.25
    vq = _quantizer([[1.0, 0.0], [0.0, 1.0]], beta=beta).train()
    z = _z([[2.0, 0.5], [0.2, 3.0]]).requires_grad_(True)
    out = vq(z)
    # Forward values are the codebook rows (looked up before the EMA step) ...
    np.testing.assert_allclose(out.quantized[0].t().detach().numpy(), [[1, 0], [0, 1]], atol=1e-7)
    # ... and the loss is beta * mse(q, z).
    expected = beta * np.mean((np.array([[1, 0], [0, 1]]) - np.array([[2, 0.5], [0.2, 3]])) ** 2)
    np.testing.assert_allclose(float(out.loss.detach()), expected, rtol=1e-6)
    # Gradient of sum(q) reaches z unchanged (straight-through); the loss adds its own term.
    out.quantized.sum().backward()
    np.testing.assert_array_equal(z.grad.numpy(), np.ones((1, 2, 2)))


def test_dead_codes_are_replaced_by_normalised_batch_latents():
    g = torch.Generator().manual_seed(0)
    embed = torch.nn.functional.normalize(torch.randn(6, 3, generator=g), dim=-1)
    cluster = [5.0, 0.0, 5.0, 0.0, 5.0, 0.0]  # codes 1, 3, 5 are dead (threshold 2)
    z = torch.randn(1, 3, 10, generator=g) * 7
    results = []
    for _ in range(2):
        vq = _quantizer(embed, decay=0.99, threshold=2.0, cluster=cluster).train()
        vq(z, generator=torch.Generator().manual_seed(42))
        results.append(vq.codebook.embed.clone())
    assert torch.equal(results[0], results[1])  # reproducible from the generator
    new = results[0]
    z_unit = torch.nn.functional.normalize(z[0].t(), dim=-1)  # (10, 3)
    for code in (1, 3, 5):
        dist = (z_unit - new[code]).abs().amax(dim=1)
        assert float(dist.min()) == 0.0, f"code {code} is not a normalised batch latent"
    # Live codes only moved by the EMA step (never replaced by batch rows).
    for code in (0, 2, 4):
        assert float((new[code] - embed[code]).abs().max()) < 0.05
    other = _quantizer(embed, decay=0.99, threshold=2.0, cluster=cluster).train()
    other(z, generator=torch.Generator().manual_seed(43))
    assert not torch.equal(other.codebook.embed, new)


def test_no_draw_when_no_code_expired_and_optional_replacement():
    vq = _quantizer(torch.eye(3), threshold=2.0, cluster=[9.0, 9.0, 9.0]).train()
    g = torch.Generator().manual_seed(5)
    state = g.get_state()
    vq(torch.randn(1, 3, 4), generator=g)
    assert torch.equal(g.get_state(), state)
    vq = _quantizer(torch.eye(3), threshold=2.0, cluster=[0.0, 0.0, 0.0]).train()
    vq(torch.randn(1, 3, 4), replace_dead_codes=False)
    assert bool(vq.codebook.expired().all())  # left for the caller to replace
    expired = vq.codebook.replace_dead_codes(torch.randn(4, 3), torch.Generator().manual_seed(0))
    assert expired.tolist() == [True, True, True]
    np.testing.assert_allclose(vq.codebook.embed.norm(dim=1).numpy(), 1.0, rtol=1e-6)


def test_sampling_helpers():
    g = torch.Generator().manual_seed(0)
    rows = torch.arange(10.0)[:, None]
    picked = sample_rows(rows, 4, g)
    assert picked.shape == (4, 1) and len(set(picked[:, 0].tolist())) == 4  # without replacement
    assert sample_rows(rows[:3], 7, g).shape == (7, 1)  # with replacement when short
    counts = split_count(100, torch.tensor([0.2, 0.3, 0.5]), g)
    assert int(counts.sum()) == 100 and counts.dtype == torch.int64
    assert split_count(5, torch.ones(1), g).tolist() == [5]


def test_codebook_reset_gives_unit_rows_and_zero_counts():
    cb = CosineCodebook(16, 4, 0.99, 2.0, sync=False)
    cb.reset(torch.Generator().manual_seed(0))
    np.testing.assert_allclose(cb.embed.norm(dim=1).numpy(), 1.0, rtol=1e-6)
    assert float(cb.cluster_size.abs().sum()) == 0.0 and bool(cb.expired().all())


@pytest.mark.parametrize("world", [2])
def test_sync_all_reduces_statistics_across_processes(tmp_path, world):
    """Two gloo processes with half a batch each end with the same codebook as one process
    with the whole batch (EMA statistics are all-reduced)."""
    import torch.multiprocessing as mp

    g = torch.Generator().manual_seed(3)
    embed = torch.nn.functional.normalize(torch.randn(8, 4, generator=g), dim=-1)
    z = torch.randn(2, 4, 5, generator=g)
    single = _quantizer(embed, decay=0.5, cluster=torch.full((8,), 9.0)).train()
    single(z)
    mp.spawn(_sync_worker, args=(world, str(tmp_path), embed, z), nprocs=world, join=True)
    got = [torch.load(tmp_path / f"rank{rank}.pt") for rank in range(world)]
    for g in got:
        torch.testing.assert_close(g["embed"], single.codebook.embed, rtol=1e-6, atol=1e-7)
        torch.testing.assert_close(g["cluster_size"], single.codebook.cluster_size)
    # Dead-code restarts: every process ends with the same rows, drawn from the union batch.
    assert torch.equal(got[0]["restarted"], got[1]["restarted"])
    z_unit = torch.nn.functional.normalize(z.transpose(1, 2).reshape(-1, 4), dim=-1)  # (10, 4)
    for row in got[0]["restarted"][:3]:
        assert float((z_unit - row).abs().amax(dim=1).min()) < 1e-6


def _sync_worker(rank: int, world: int, folder: str, embed, z) -> None:
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"file://{folder}/store", rank=rank, world_size=world
    )
    try:
        vq = VectorQuantizer(8, 4, 0.5, 0.0, 1.0, sync=True).train()
        vq.codebook.embed.copy_(embed)
        vq.codebook.cluster_size.fill_(9.0)
        vq(z[rank : rank + 1])
        dead = VectorQuantizer(8, 4, 0.5, 2.0, 1.0, sync=True).train()
        dead.codebook.embed.copy_(embed)
        dead.codebook.cluster_size[3:].fill_(9.0)  # codes 0, 1, 2 expire
        dead(z[rank : rank + 1], generator=torch.Generator().manual_seed(rank))
        torch.save(
            {
                "embed": vq.codebook.embed,
                "cluster_size": vq.codebook.cluster_size,
                "restarted": dead.codebook.embed,
            },
            f"{folder}/rank{rank}.pt",
        )
    finally:
        dist.destroy_process_group()
