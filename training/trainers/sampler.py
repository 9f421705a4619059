"""``ResumableSampler``: an endless, seeded, rank-sharded stream of dataset indices.

Epoch ``e`` is a permutation drawn from ``(seed, e)``; with ``blocks`` (e.g. the shard sizes of a
token database) the blocks are shuffled and then the items inside each block, so consecutive
indices come from one shard. The permutation is padded by wrapping to a multiple of the world
size and process ``r`` takes every ``world``-th item from ``r`` (as ``DistributedSampler``), so
every process has the same number of items per epoch. The stream of one process is the
concatenation of its epochs; ``start`` skips that many items, which is how a run resumes at
step ``s``: ``start = s * batch_size``. With ``with_epoch`` items are ``(index, epoch)`` pairs
(for per-epoch masks).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from torch.utils.data import Sampler


def epoch_permutation(
    num_items: int, seed: int, epoch: int, blocks: Sequence[int] | None = None
) -> np.ndarray:
    """The order of epoch ``epoch``. Shape (num_items,) int64."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(epoch), 0x5A]))
    if not blocks:
        return rng.permutation(num_items)
    if sum(blocks) != num_items:
        raise ValueError(f"epoch_permutation: blocks sum to {sum(blocks)}, not {num_items}")
    starts = np.concatenate([[0], np.cumsum(blocks)[:-1]]).astype(np.int64)
    parts = [starts[b] + rng.permutation(blocks[b]) for b in rng.permutation(len(blocks))]
    return np.concatenate(parts)


class ResumableSampler(Sampler):
    """Endless indices for one process (see the module docstring)."""

    def __init__(
        self,
        num_items: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
        start: int = 0,
        blocks: Sequence[int] | None = None,
        with_epoch: bool = False,
        shuffle: bool = True,
    ) -> None:
        if num_items < 1:
            raise ValueError(f"ResumableSampler: the dataset is empty (num_items={num_items})")
        if not 0 <= rank < world_size:
            raise ValueError(f"ResumableSampler: rank {rank} not in [0, {world_size})")
        if start < 0:
            raise ValueError(f"ResumableSampler: start must be >= 0, got {start}")
        self.num_items = int(num_items)
        self.seed = int(seed)
        self.rank, self.world_size = int(rank), int(world_size)
        self.start = int(start)
        self.blocks = list(blocks) if blocks else None
        self.with_epoch = with_epoch
        self.shuffle = shuffle

    @property
    def per_epoch(self) -> int:
        """Items per process and epoch (``ceil(num_items / world_size)``)."""
        return -(-self.num_items // self.world_size)

    def _epoch_items(self, epoch: int) -> np.ndarray:
        if self.shuffle:
            order = epoch_permutation(self.num_items, self.seed, epoch, self.blocks)
        else:
            order = np.arange(self.num_items)
        total = self.per_epoch * self.world_size
        order = np.resize(order, total)  # wrap around to a multiple of the world size
        return order[self.rank :: self.world_size]

    def __iter__(self) -> Iterator[int | tuple[int, int]]:
        epoch, offset = divmod(self.start, self.per_epoch)
        while True:
            items = self._epoch_items(epoch)
            for i in items[offset:]:
                yield (int(i), epoch) if self.with_epoch else int(i)
            epoch, offset = epoch + 1, 0
