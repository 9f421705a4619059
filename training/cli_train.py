"""Train the gaze/camera tokenizers, the video tokenizer or the EgoM2P backbone; or tokenise clips.

What to train (--what):
  cam-tokenizer, gaze-tokenizer  the VQ-VAE tokenizers, on a clip dataset
  video-tokenizer                a small causal video tokenizer (L1 loss), on a clip dataset
  tokens                         tokenise a clip dataset into a token database (--tokenizers)
  backbone                       the encoder-decoder, on a token database (or on a clip dataset
                                 with --tokenizers: tokenised first into OUT/tokens)

Examples (CPU):
  egom2p synth --out data --clips 200 --size 64
  egom2p train --what cam-tokenizer --data data/synth --out runs/cam --steps 300
  egom2p train --what gaze-tokenizer --data data/synth --out runs/gaze --steps 300
  egom2p train --what video-tokenizer --data data/synth --out runs/video --steps 200
  egom2p train --what backbone --data data/synth --out runs/ego-tiny \\
      --tokenizers cam=runs/cam/checkpoint gaze=runs/gaze/checkpoint video=runs/video/checkpoint
  egom2p train ... --out runs/cam --resume --steps 600      # continue (or extend) a run

Many GPUs: torchrun --nproc_per_node=8 -m egom2p_edge.cli.main train --what backbone ...
--device cuda --bf16 (each process takes its local GPU; --batch-size is per process).
Each run writes OUT/checkpoint (our format), OUT/train_state.pt (resume), OUT/run.json,
OUT/train_log.jsonl, OUT/eval_log.jsonl and OUT/loss_curve.png.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch
from tqdm import tqdm

WHATS = ("cam-tokenizer", "gaze-tokenizer", "video-tokenizer", "backbone", "tokens")
PRESET_DEFAULTS = {
    "cam-tokenizer": "small",
    "gaze-tokenizer": "small",
    "video-tokenizer": "tiny128",
    "backbone": "ego-tiny",
}
BATCH_DEFAULTS = {"cam-tokenizer": 32, "gaze-tokenizer": 32, "video-tokenizer": 4, "backbone": 8}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--what", required=True, choices=WHATS, help="what to train (see above)")
    parser.add_argument(
        "--data", required=True, type=Path, help="clip dataset folder, or token database (backbone)"
    )
    parser.add_argument("--out", required=True, type=Path, help="output folder of the run")
    parser.add_argument(
        "--tokenizers",
        nargs="+",
        metavar="ROLE=PATH",
        help="tokenizers for --what tokens/backbone: cam=PATH gaze=PATH video=PATH (our format, "
        "an official .pth, or a folder with the released encoder.jit/decoder.jit)",
    )
    parser.add_argument(
        "--preset",
        help="model size: tokenizers official|small|tiny (default small); video "
        "dv4x8x8|small|tiny128 (default tiny128); backbone ego-b|ego-tiny (default ego-tiny)",
    )
    parser.add_argument("--steps", type=int, default=1000, help="optimiser steps of the schedule")
    parser.add_argument(
        "--batch-size",
        type=int,
        help="samples per process and step (default: tokenizers 32, video 4, backbone 8)",
    )
    parser.add_argument(
        "--lr", type=float, help="peak learning rate (default: blr * global batch / 256)"
    )
    parser.add_argument(
        "--blr",
        type=float,
        help="base learning rate (default: official for official sizes, a tuned CPU value for "
        "small ones)",
    )
    parser.add_argument(
        "--warmup-steps", type=int, help="linear warmup steps (default: 5%% of --steps)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of init, data order and masks")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast (CUDA only)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")
    parser.add_argument(
        "--overwrite", action="store_true", help="start over in an --out that holds a run"
    )
    parser.add_argument(
        "--stop-at",
        type=int,
        help="checkpoint and stop at this step (the schedule keeps --steps); continue later with "
        "--resume",
    )
    parser.add_argument(
        "--eval-every", type=int, help="steps between evaluations (default: --steps / 10)"
    )
    parser.add_argument(
        "--ckpt-every", type=int, help="steps between checkpoints (default: --steps / 5)"
    )
    parser.add_argument("--log-every", type=int, default=1, help="steps between train-log lines")
    parser.add_argument("--val-fraction", type=float, default=0.1, help="held-out share of clips")
    parser.add_argument(
        "--max-eval-samples", type=int, default=256, help="held-out samples used per evaluation"
    )
    parser.add_argument("--limit-clips", type=int, help="use only the first N clips")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument(
        "--input-tokens",
        type=int,
        help="backbone: input token budget (ego-b 2048, ego-tiny 256; at most half the tokens)",
    )
    parser.add_argument(
        "--target-tokens", type=int, help="backbone: target token budget (as --input-tokens)"
    )
    parser.add_argument(
        "--data-modalities-only",
        action="store_true",
        help="backbone: only the modalities the token database holds (e.g. cam + gaze without "
        "video tables; the official model has all four)",
    )
    parser.add_argument(
        "--gen-eval-samples",
        type=int,
        default=4,
        help="backbone: held-out clips decoded rgb->cam/gaze for ATE and gaze MSE (0 = off)",
    )
    parser.add_argument(
        "--no-depth", action="store_true", help="video tokenizer: train on RGB only"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _rank() -> int:
    return int(os.environ.get("RANK", "0"))


def _tokenise(args, clips: Path, out: Path) -> Path:
    from egom2p_edge.training.tokens import (
        build_token_database,
        load_tokenizer_set,
        parse_tokenizer_args,
    )

    paths = parse_tokenizer_args(args.tokenizers)
    tok = load_tokenizer_set(paths, device=args.device)
    from egom2p_edge.clips import ClipDataset

    total = len(ClipDataset(clips))
    if args.limit_clips is not None:
        total = min(total, args.limit_clips)
    bar = tqdm(total=total, unit="clip", desc="tokenise", disable=args.no_progress)
    start = time.perf_counter()
    try:
        path = build_token_database(
            clips,
            out,
            tok,
            overwrite=args.overwrite or args.what == "backbone",
            limit=args.limit_clips,
            on_clip=bar.update,
        )
    finally:
        bar.close()
    from egom2p_edge.training.tokens import TokenDatabase

    db = TokenDatabase(path)
    mods = ", ".join(f"{n} {m.count}" for n, m in db.modalities.items())
    print(
        f"wrote a token database of {len(db)} samples ({mods}) to {path} in "
        f"{time.perf_counter() - start:.1f} s"
    )
    return path


def _configs(args, what: str):
    from egom2p_edge.training.trainers import RunConfig

    steps = args.steps
    run = RunConfig(
        out_dir=args.out,
        steps=steps,
        batch_size=args.batch_size or BATCH_DEFAULTS[what],
        seed=args.seed,
        device=args.device,
        eval_every=args.eval_every if args.eval_every is not None else max(1, steps // 10),
        ckpt_every=args.ckpt_every if args.ckpt_every is not None else max(1, steps // 5),
        log_every=args.log_every,
        workers=args.workers,
        stop_at=args.stop_at,
        resume=args.resume,
        overwrite=args.overwrite,
        bf16=args.bf16,
        progress=not args.no_progress and _rank() == 0,
        val_fraction=args.val_fraction,
        max_eval_samples=args.max_eval_samples,
    )
    over: dict = {}
    if args.lr is not None:
        over["lr"] = args.lr
    if args.blr is not None:
        over["blr"] = args.blr
    if args.warmup_steps is not None:
        over["warmup_steps"] = args.warmup_steps
    return run, over  # the trainers build their recipe's OptimConfig with these overrides


def _train(args) -> int:
    from egom2p_edge.training.tokens import is_token_database
    from egom2p_edge.training.trainers import backbone, video, vqvae

    what = args.what
    preset_name = args.preset or PRESET_DEFAULTS[what]
    run, over = _configs(args, what)
    if what in ("cam-tokenizer", "gaze-tokenizer"):
        domain = what.split("-")[0]
        result = vqvae.train_vqvae(
            args.data,
            domain,
            run,
            config=vqvae.build_vqvae_config(domain, preset_name),
            optim=vqvae.default_optim(domain, preset_name, run.steps, **over),
            preset_name=preset_name,
            limit_clips=args.limit_clips,
        )
    elif what == "video-tokenizer":
        from egom2p_edge.models.video import preset as video_preset

        result = video.train_video_tokenizer(
            args.data,
            run,
            config=video_preset(preset_name),
            optim=video.default_optim(run.steps, **over),
            include_depth=not args.no_depth,
            limit_clips=args.limit_clips,
        )
    else:
        data = args.data
        if not is_token_database(data):
            if not args.tokenizers:
                raise ValueError(
                    f"{data} is not a token database; give --tokenizers to tokenise it first, or "
                    f"build one with --what tokens"
                )
            tokens_dir = args.out / "tokens"
            if args.resume and is_token_database(tokens_dir):
                data = tokens_dir
            elif _rank() == 0 and int(os.environ.get("WORLD_SIZE", "1")) == 1:
                data = _tokenise(args, data, tokens_dir)
            else:
                raise ValueError(
                    "under torchrun, tokenise first (--what tokens) and pass the database as --data"
                )
        from egom2p_edge.models.masking import MaskingConfig
        from egom2p_edge.training.tokens import TokenDatabase

        db = TokenDatabase(data)
        config = backbone.backbone_config_for(db, preset_name, args.data_modalities_only)
        default = backbone.default_masking(config, preset_name)
        masking = MaskingConfig(
            input_budget=args.input_tokens or default.input_budget,
            target_budget=args.target_tokens or default.target_budget,
        )
        result = backbone.train_backbone(
            db,
            run,
            config=config,
            optim=backbone.default_optim(preset_name, run.steps, **over),
            masking=masking,
            preset_name=preset_name,
            gen_eval_samples=args.gen_eval_samples,
        )
    if _rank() == 0:
        print(result.summary(f"{what} ({preset_name})"))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        if args.what == "tokens":
            if not args.tokenizers:
                raise ValueError("--what tokens needs --tokenizers ROLE=PATH ...")
            _tokenise(args, args.data, args.out)
            return 0
        return _train(args)
    except (ValueError, FileNotFoundError, FileExistsError, FloatingPointError) as exc:
        raise SystemExit(f"egom2p train: {exc}") from None
