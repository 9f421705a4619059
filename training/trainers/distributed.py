"""One process of a (possibly) distributed run: rank, world size, device, and the few collectives
the trainers need.

Under ``torchrun`` (``WORLD_SIZE`` > 1 in the environment) the process group is initialised here
(NCCL on CUDA, gloo on the CPU) and destroyed by ``close``. A group initialised by the caller
(e.g. ``torch.multiprocessing`` tests) is used as it is and left alone. Without either, the run
is a group of one and every collective is a no-op.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)


@dataclass
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    owns_group: bool = False  # we initialised the group, so we destroy it

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @classmethod
    def setup(cls, device: str = "cpu") -> DistContext:
        """Join the run this process belongs to; pick the device (``cuda`` -> the local GPU)."""
        owns = False
        env_world = int(os.environ.get("WORLD_SIZE", "1"))
        env_local = int(os.environ.get("LOCAL_RANK", "0"))
        dev = torch.device(device)
        if dev.type == "cuda":
            if not torch.cuda.is_available():
                raise ValueError(
                    f"device {device!r} asked for but CUDA is not available here; use --device cpu"
                )
            if dev.index is None:  # "cuda": the process's local GPU (torchrun's LOCAL_RANK)
                dev = torch.device("cuda", env_local)
            torch.cuda.set_device(dev)  # before the NCCL group is created
        if not (dist.is_available() and dist.is_initialized()) and env_world > 1:
            dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
            owns = True
        if dist.is_available() and dist.is_initialized():
            rank, world = dist.get_rank(), dist.get_world_size()
        else:
            rank, world = 0, 1
        local = env_local if env_world > 1 else (rank if world > 1 else 0)
        return cls(rank, world, local, dev, owns)

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def mean(self, value: float) -> float:
        """The mean of a float over all processes."""
        if not self.distributed:
            return float(value)
        t = torch.tensor([float(value)], dtype=torch.float64, device=self._coll_device())
        dist.all_reduce(t)
        return float(t.item()) / self.world_size

    def gather_objects(self, obj: Any) -> list[Any]:
        """Every process's ``obj``, in rank order (on every process)."""
        if not self.distributed:
            return [obj]
        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def broadcast_object(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every process."""
        if not self.distributed:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def _coll_device(self) -> torch.device:
        return self.device if dist.get_backend() == "nccl" else torch.device("cpu")

    def close(self) -> None:
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
