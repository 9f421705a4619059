"""Import official EgoM2P checkpoints into the SDK's format (safetensors + config.json).

SRC is one of:
  - an official gaze or camera tokenizer .pth (args has encoder_type), e.g. checkpoint-cam.pth;
  - an official EgoM2P backbone .pth (args.model starts with "egom2p"), e.g. checkpoint-main.pth;
  - a folder holding the released Cosmos video tokenizer encoder.jit and decoder.jit.
The .pth files are read without executing pickled code (only argparse.Namespace is allowed).
The result is re-read and compared with what was written before the command reports success.

Importer contract (one function per kind; each returns what save_checkpoint takes):
  egom2p_edge.checkpoints.vqvae_import.import_official_vqvae(path_or_checkpoint)
  egom2p_edge.checkpoints.backbone_import.import_official_backbone(path)
  egom2p_edge.checkpoints.video_import.import_released_jit(folder)
each -> (kind, config_dict, state_dict, provenance) with kind in {"vqvae", "backbone",
"video_tokenizer"}, a JSON-serialisable config dict that rebuilds the model, a state_dict of
torch tensors and a JSON-serialisable provenance dict.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

ImportResult = tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("src", metavar="SRC", help="official .pth, or a folder with encoder.jit")
    parser.add_argument(
        "--out",
        required=True,
        metavar="DST",
        help="output folder (model.safetensors + config.json)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing DST")


def _other_importer(module: str, function: str, what: str):
    """A function from another importer module, imported only when needed."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            raise ValueError(
                f"importing {what} needs {module}, which this version of the SDK does not have "
                f"yet; tokenizer checkpoints (checkpoint-cam.pth, checkpoint-gaze.pth) can be "
                f"imported already"
            ) from None
        raise
    fn = getattr(mod, function, None)
    if fn is None:
        raise ValueError(f"{module} has no {function}(); cannot import {what}")
    return fn


def import_any(src: str | Path) -> ImportResult:
    """Dispatch SRC to the right importer; returns (kind, config, state_dict, provenance)."""
    src = Path(src)
    if src.is_dir():
        if (src / "encoder.jit").is_file() and (src / "decoder.jit").is_file():
            fn = _other_importer(
                "egom2p_edge.checkpoints.video_import", "import_released_jit", "video tokenizers"
            )
            return fn(src)
        raise ValueError(
            f"{src} is a folder without encoder.jit and decoder.jit; give an official .pth "
            f"file or the folder of the released Cosmos DV4x8x8 tokenizer"
        )
    if not src.is_file():
        raise FileNotFoundError(f"{src} does not exist")
    from egom2p_edge.checkpoints.official import load_official_checkpoint

    ckpt = load_official_checkpoint(src)
    if "encoder_type" in ckpt.args:
        from egom2p_edge.checkpoints.vqvae_import import import_official_vqvae

        return import_official_vqvae(ckpt)
    model_name = ckpt.args.get("model")
    if isinstance(model_name, str) and model_name.startswith("egom2p"):
        del ckpt  # the backbone importer reads the file itself
        fn = _other_importer(
            "egom2p_edge.checkpoints.backbone_import", "import_official_backbone", "backbones"
        )
        return fn(src)
    raise ValueError(
        f"{src}: not a recognised official checkpoint: its args has no 'encoder_type' "
        f"(tokenizer) and args.model is {model_name!r} (backbones start with 'egom2p')"
    )


def run(args: argparse.Namespace) -> int:
    from egom2p_edge.checkpoints.official import LICENCE_NOTICE
    from egom2p_edge.checkpoints.sdk_format import (
        checkpoint_paths,
        load_checkpoint,
        save_checkpoint,
        state_dicts_equal,
    )

    out = Path(args.out)
    weights_path, config_path = checkpoint_paths(out)
    if not args.force and (weights_path.exists() or config_path.exists()):
        print(f"egom2p import: {out} already holds a checkpoint; pass --force to overwrite",
              file=sys.stderr)  # fmt: skip
        return 2
    print(f"Licence: {LICENCE_NOTICE}")
    print(f"[1/3] reading {args.src}")
    try:
        kind, config, state, provenance = import_any(args.src)
    except (ValueError, FileNotFoundError) as exc:
        print(f"egom2p import: {exc}", file=sys.stderr)
        return 1
    n_params = sum(t.numel() for t in state.values())
    print(f"[2/3] writing {kind}: {len(state)} tensors, {n_params:,} values")
    save_checkpoint(out, kind, config, state, provenance)
    print("[3/3] verifying the written files")
    kind2, config2, state2, _ = load_checkpoint(out)
    same_config = json.loads(json.dumps(config)) == config2  # tuples read back as lists
    if kind2 != kind or not same_config or not state_dicts_equal(state, state2):
        print(f"egom2p import: verification failed: {out} does not read back identically",
              file=sys.stderr)  # fmt: skip
        return 1
    print(f"wrote {kind} checkpoint to {weights_path} and {config_path.name} (verified)")
    return 0
