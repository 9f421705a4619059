"""Safe reading of official EgoM2P ``.pth`` checkpoints (never executes pickled code).

Official checkpoints are ``torch.save`` dicts with ``model`` (a state_dict), ``epoch`` and
``args`` (an ``argparse.Namespace``). They are read with ``torch.load(weights_only=True)`` with
exactly one extra allowed global, ``argparse.Namespace``; any other pickled object is refused.
"""

from __future__ import annotations

import argparse
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LICENCE_NOTICE = (
    "The official EgoM2P weights are released under a non-commercial licence, separate from the "
    "Apache-2.0 code. Converted files carry the same terms: check the licence of the weights "
    "(https://github.com/lgen-sudo/EgoM2P) before any commercial use."
)


@dataclass
class OfficialCheckpoint:
    """The parts of an official checkpoint the SDK uses.

    state_dict: parameter and buffer tensors by key; args: the training ``Namespace`` as a dict;
    epoch: the saved epoch (or None); path: where it was read from.
    """

    path: Path
    state_dict: dict[str, Any]
    args: dict[str, Any] = field(default_factory=dict)
    epoch: int | None = None


def load_official_checkpoint(path: str | Path) -> OfficialCheckpoint:
    """Read an official ``.pth`` without executing pickled code.

    Raises FileNotFoundError for a missing file and ValueError for anything that is not an
    official-format checkpoint (including any pickled object other than ``argparse.Namespace``).
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ValueError(
            f"refusing to load {path}: it holds pickled objects other than tensors and "
            f"argparse.Namespace, and loading them would execute code from the file. "
            f"Details: {str(exc).splitlines()[0]}. Only official EgoM2P checkpoints (or ours, "
            f"in safetensors) are accepted."
        ) from None
    except (RuntimeError, EOFError, OSError) as exc:
        raise ValueError(
            f"cannot read {path} as a torch checkpoint ({exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'no details'}); is the file complete?"
        ) from None
    if not isinstance(obj, dict) or "model" not in obj:
        keys = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise ValueError(
            f"{path} is not an official EgoM2P checkpoint: expected a dict with a 'model' "
            f"state_dict (and 'args'), found {keys}"
        )
    state = obj["model"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path}: 'model' must be a state_dict of tensors")
    args = obj.get("args")
    if args is None:
        args_dict: dict[str, Any] = {}
    elif isinstance(args, argparse.Namespace):
        args_dict = vars(args)
    elif isinstance(args, dict):
        args_dict = dict(args)
    else:
        raise ValueError(f"{path}: 'args' must be an argparse.Namespace, found {type(args)}")
    epoch = obj.get("epoch")
    return OfficialCheckpoint(
        path=path,
        state_dict=dict(state),
        args=args_dict,
        epoch=int(epoch) if isinstance(epoch, (int, float)) else None,
    )
