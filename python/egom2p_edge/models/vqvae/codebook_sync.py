"""Cross-process pieces of codebook training: all-reduce of EMA statistics, dead-code sampling.

Without an initialised ``torch.distributed`` group everything runs locally, as a group of one
process would. The draws follow the official order (a per-process count by sequential binomials,
then a permutation or uniform draw of local rows), so a seeded ``torch.Generator`` reproduces
the official codebook restarts.
"""

from __future__ import annotations

import torch


def distributed_ready() -> bool:
    """True when a torch.distributed process group is initialised."""
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def all_reduce_sum_(t: torch.Tensor) -> torch.Tensor:
    """Sum ``t`` in place over all processes (no-op without a process group); returns ``t``."""
    if distributed_ready():
        torch.distributed.all_reduce(t)
    return t


def sample_rows(samples: torch.Tensor, num: int, generator: torch.Generator | None) -> torch.Tensor:
    """``num`` rows of ``samples`` (M, D): a random permutation prefix when M >= num, else
    uniform draws with replacement. Shape (num, D)."""
    m = samples.shape[0]
    if m >= num:
        idx = torch.randperm(m, generator=generator, device=samples.device)[:num]
    else:
        idx = torch.randint(0, m, (num,), generator=generator, device=samples.device)
    return samples[idx]


def split_count(total: int, probs: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Multinomial split of ``total`` over ``probs`` (P,) by sequential binomials. Shape (P,)."""
    probs = probs.detach().to("cpu", torch.float32)
    remaining = torch.tensor(float(total))
    mass_left = torch.tensor(1.0)
    counts = torch.empty(probs.shape, dtype=torch.long)
    for i, p in enumerate(probs):
        ratio = torch.clamp(p / mass_left, 0.0, 1.0)
        c = torch.binomial(remaining, ratio, generator=generator)
        counts[i] = c.long()
        remaining = remaining - c
        mass_left = mass_left - p
    return counts


def sample_rows_synced(
    samples: torch.Tensor, num: int, generator: torch.Generator | None
) -> torch.Tensor:
    """``num`` rows drawn from the union of every process's ``samples`` (M_r, D).

    Rank 0 splits ``num`` over the processes in proportion to their row counts and broadcasts the
    split; each process draws its share locally; the shares are gathered in rank order. Every
    process returns the same (num, D) tensor.
    """
    if not distributed_ready():
        counts = split_count(num, torch.ones(1), generator)
        return sample_rows(samples, int(counts[0]), generator)
    dist = torch.distributed
    rank, world = dist.get_rank(), dist.get_world_size()
    device = samples.device
    size = torch.tensor([samples.shape[0]], dtype=torch.long, device=device)
    sizes = [torch.zeros_like(size) for _ in range(world)]
    dist.all_gather(sizes, size)
    sizes_t = torch.cat(sizes).to(torch.float32)
    if rank == 0:
        counts = split_count(num, sizes_t / sizes_t.sum(), generator).to(device)
    else:
        counts = torch.empty(world, dtype=torch.long, device=device)
    dist.broadcast(counts, src=0)
    counts_list = [int(c) for c in counts.tolist()]
    local = sample_rows(samples, counts_list[rank], generator)
    # all_gather needs equal sizes on every backend: pad each share to the largest, then trim.
    width = max(counts_list)
    padded = torch.zeros((width, samples.shape[1]), dtype=samples.dtype, device=device)
    padded[: local.shape[0]] = local
    gathered = [torch.empty_like(padded) for _ in range(world)]
    dist.all_gather(gathered, padded)
    return torch.cat([g[:c] for g, c in zip(gathered, counts_list)], dim=0)  # (num, D)
