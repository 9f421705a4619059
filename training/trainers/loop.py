"""The training loop every trainer shares: DDP, schedule, clipping, evaluation, logs, checkpoints.

A trainer describes its model and data as a ``TrainTask``; ``run_training`` does the rest:

* one process or many (``torchrun``, or a group the caller initialised): the task's
  ``train_module`` (forward(batch) -> dict of tensors with ``loss``) is wrapped in DDP, every
  process reads its own slice of the data (``ResumableSampler``), rank 0 logs, evaluates and
  writes; the others wait.
* AdamW, lr warmup + cosine (a pure function of the step), gradient clipping, optional bf16
  autocast on CUDA.
* ``OUT/checkpoint`` (our format; provenance says ``trained``, the data, the steps and the final
  metrics), ``OUT/train_state.pt`` (optimiser, step, each process's generator states),
  ``OUT/run.json``, ``OUT/train_log.jsonl``, ``OUT/eval_log.jsonl``, ``OUT/loss_curve.png``.
* ``resume``: weights, optimiser and generator states are restored and the data stream skips
  what was consumed, so the resumed run continues exactly as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import logging
import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from egom2p_edge import __version__
from egom2p_edge.checkpoints.sdk_format import load_checkpoint, save_checkpoint
from egom2p_edge.training.trainers import logbook
from egom2p_edge.training.trainers.config import OptimConfig, RunConfig
from egom2p_edge.training.trainers.distributed import DistContext
from egom2p_edge.training.trainers.sampler import ResumableSampler
from egom2p_edge.training.trainers.schedule import build_optimizer, lr_at, set_lr
from egom2p_edge.training.trainers.state import (
    CHECKPOINT_DIR,
    RUN_FILE,
    STATE_FILE,
    check_run_file,
    load_train_state,
    save_train_state,
    write_run_file,
)

log = logging.getLogger(__name__)


class TrainTask:
    """What ``run_training`` needs from a trainer: subclasses set the attributes and implement
    ``data_info`` and ``evaluate``; the other methods' defaults suit a task with a config'd
    model, a plain shuffled sampler, default batching and no random state of its own."""

    name: str  # "cam-tokenizer", "backbone", ... (titles, logs)
    kind: str  # checkpoint kind: "vqvae" | "backbone" | "video_tokenizer"
    model: nn.Module  # the model whose weights are saved
    train_module: nn.Module  # forward(batch) -> {"loss": scalar, other terms...}; holds model
    train_data: Dataset  # training items (keys from ResumableSampler)
    ddp_kwargs: dict[str, Any]  # DistributedDataParallel options

    def model_config(self) -> dict[str, Any]:
        return self.model.config.to_dict()

    def data_info(self) -> dict[str, Any]:
        raise NotImplementedError

    def sampler_blocks(self) -> Sequence[int] | None:
        """Block sizes the sampler shuffles within (None: one block, the whole set)."""
        return None

    def sampler_with_epoch(self) -> bool:
        """Whether the sampler hands (epoch, index) keys instead of plain indices."""
        return False

    def collate(self) -> Callable | None:
        """The DataLoader's collate_fn (None: PyTorch's default)."""
        return None

    def evaluate(self) -> dict[str, float]:  # on self.model, rank 0 only
        raise NotImplementedError

    def rng_state(self) -> dict[str, torch.Tensor]:
        """Random state to checkpoint besides the loop's own (none by default)."""
        return {}

    def set_rng_state(self, state: dict[str, torch.Tensor]) -> None:
        """Restore what ``rng_state`` returned."""

    def extra_provenance(self) -> dict[str, Any]:
        return {}


@dataclass
class TrainResult:
    checkpoint: Path
    steps: int
    complete: bool  # reached the schedule's last step (False after stop_at)
    final_metrics: dict[str, float]
    initial_metrics: dict[str, float]
    losses: list[float]  # train loss of each step run in this process (rank mean)
    wall_s: float
    model: nn.Module = field(repr=False)

    def summary(self, what: str) -> str:
        first = {k: self.initial_metrics[k] for k in list(self.initial_metrics)[:4]}
        last = {k: self.final_metrics[k] for k in list(self.final_metrics)[:4]}
        fmt = lambda d: ", ".join(f"{k} {v:.4g}" for k, v in d.items())  # noqa: E731
        state = "" if self.complete else " (stopped early; continue with --resume)"
        before = f"; before: {fmt(first)}" if first else ""
        return (
            f"trained {what} for {self.steps} steps in {self.wall_s:.1f} s{state}: checkpoint "
            f"{self.checkpoint}{before}; after: {fmt(last)}"
        )


def _prepare_out_dir(run: RunConfig, ctx: DistContext) -> None:
    out = run.out_dir
    if not ctx.is_main:
        return
    out.mkdir(parents=True, exist_ok=True)
    if run.resume:
        return
    if (out / RUN_FILE).exists() or (out / STATE_FILE).exists():
        if not run.overwrite:
            raise FileExistsError(
                f"{out} already holds a training run; continue it with --resume, start over "
                f"with --overwrite, or choose another --out"
            )
        for name in (RUN_FILE, STATE_FILE, logbook.TRAIN_LOG, logbook.EVAL_LOG, logbook.CURVE_PNG):
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / CHECKPOINT_DIR, ignore_errors=True)


def _restore(task: TrainTask, optimizer, run: RunConfig, ctx: DistContext) -> int:
    state = load_train_state(run.out_dir, ctx.device)
    _, _, weights, provenance = load_checkpoint(run.out_dir / CHECKPOINT_DIR, device="cpu")
    if int(provenance.get("steps", -1)) != state["step"]:
        raise ValueError(
            f"--resume: {run.out_dir / CHECKPOINT_DIR} is at step {provenance.get('steps')} but "
            f"{run.out_dir / STATE_FILE} at step {state['step']} (a write was interrupted); "
            f"start again with --overwrite"
        )
    task.model.load_state_dict(weights, strict=True)
    optimizer.load_state_dict(state["optimizer"])
    rng = state.get("rng") or []
    if len(rng) == ctx.world_size:
        task.set_rng_state(rng[ctx.rank])
    else:
        log.warning(
            "resume: saved by %d processes, running on %d; generator states re-seeded",
            len(rng),
            ctx.world_size,
        )
    step = int(state["step"])
    if step >= run.steps:
        raise ValueError(
            f"--resume: the run in {run.out_dir} already reached step {step} of {run.steps}; "
            f"raise --steps to train longer"
        )
    for name in (logbook.TRAIN_LOG, logbook.EVAL_LOG):
        if ctx.is_main:
            logbook.truncate_jsonl(run.out_dir / name, step)
    return step


def _evaluate(task: TrainTask, step: int, t0: float, run: RunConfig, ctx) -> dict[str, float]:
    metrics: dict[str, float] = {}
    if ctx.is_main:
        was_training = task.model.training
        task.model.eval()
        with torch.no_grad():
            metrics = task.evaluate()
        task.model.train(was_training)
        record = {"step": step, "elapsed_s": round(time.perf_counter() - t0, 3), **metrics}
        logbook.append_jsonl(run.out_dir / logbook.EVAL_LOG, record)
        log.debug("eval at step %d: %s", step, metrics)
    ctx.barrier()
    return metrics


def run_training(
    task: TrainTask, optim: OptimConfig, run: RunConfig, ctx: DistContext | None = None
) -> TrainResult:
    """Train ``task`` (see the module docstring); returns where the checkpoint went and metrics."""
    ctx = ctx or DistContext.setup(run.device)
    t0 = time.perf_counter()
    _prepare_out_dir(run, ctx)
    ctx.barrier()
    model = task.model.to(ctx.device)
    task.train_module.to(ctx.device)
    optimizer = build_optimizer(model, optim)
    record = {
        "kind": task.kind,
        "what": task.name,
        "model_config": task.model_config(),
        "data": task.data_info(),
        "optim": optim.to_dict(),
        "run": run.to_dict(),
        "world_size": ctx.world_size,
        "sdk_version": __version__,
    }
    start = 0
    if run.resume:
        if ctx.is_main:
            check_run_file(run.out_dir, record)
        start = _restore(task, optimizer, run, ctx)
    if ctx.is_main:
        write_run_file(run.out_dir, record)
    ctx.barrier()

    module: nn.Module = task.train_module
    if ctx.distributed:
        ids = [ctx.device.index] if ctx.device.type == "cuda" else None
        module = nn.parallel.DistributedDataParallel(module, device_ids=ids, **task.ddp_kwargs)
    sampler = ResumableSampler(
        len(task.train_data),
        run.seed,
        ctx.rank,
        ctx.world_size,
        start=start * run.batch_size,
        blocks=task.sampler_blocks(),
        with_epoch=task.sampler_with_epoch(),
    )
    loader = DataLoader(
        task.train_data,
        batch_size=run.batch_size,
        sampler=sampler,
        num_workers=run.workers,
        collate_fn=task.collate(),
    )
    global_batch = run.batch_size * ctx.world_size
    peak = optim.peak_lr(global_batch)
    use_bf16 = run.bf16 and ctx.device.type == "cuda"
    if run.bf16 and not use_bf16 and ctx.is_main:
        log.warning("bf16 autocast is for CUDA; training in fp32 on %s", ctx.device)
    autocast = (
        (lambda: torch.autocast("cuda", dtype=torch.bfloat16))
        if use_bf16
        else contextlib.nullcontext
    )

    if start == 0:
        initial = _evaluate(task, 0, t0, run, ctx)
    else:  # the metrics before training, from the interrupted run's log
        logged = logbook.read_jsonl(run.out_dir / logbook.EVAL_LOG)
        first = logged[0] if logged and logged[0].get("step") == 0 else {}
        initial = {k: v for k, v in first.items() if k not in ("step", "elapsed_s")}
    progress = logbook.Progress(run.progress and ctx.is_main, run.last_step, start, task.name)
    params = [p for p in model.parameters() if p.requires_grad]
    losses: list[float] = []
    metrics: dict[str, float] = {}
    last_eval = 0 if start == 0 else -1
    model.train()
    batches = iter(loader)
    tick = time.perf_counter()
    step = start
    try:
        for step in range(start, run.last_step):
            batch = next(batches)
            lr = lr_at(step, run.steps, peak, optim)
            set_lr(optimizer, lr)
            with autocast():
                terms = module(batch)
            loss = terms["loss"]
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            clip = optim.clip_grad if optim.clip_grad is not None else math.inf
            grad_norm = float(torch.nn.utils.clip_grad_norm_(params, clip))
            optimizer.step()
            done = step + 1
            values = {k: ctx.mean(float(v.detach())) for k, v in terms.items()}
            if not math.isfinite(values["loss"]):
                raise FloatingPointError(
                    f"{task.name}: the loss became {values['loss']} at step {done} (lr {lr:.3g}); "
                    f"lower --lr/--blr or check the data"
                )
            losses.append(values["loss"])
            now = time.perf_counter()
            rate = global_batch / max(now - tick, 1e-9)
            tick = now
            if ctx.is_main and (done % run.log_every == 0 or done == run.last_step):
                logbook.append_jsonl(
                    run.out_dir / logbook.TRAIN_LOG,
                    {
                        "step": done,
                        **values,
                        "lr": lr,
                        "grad_norm": grad_norm,
                        "samples_per_s": round(rate, 3),
                    },
                )
            progress.update({"loss": values["loss"], "lr": lr})
            if run.eval_every and done % run.eval_every == 0 and done < run.last_step:
                metrics = _evaluate(task, done, t0, run, ctx)
                last_eval = done
            if run.ckpt_every and done % run.ckpt_every == 0 and done < run.last_step:
                _save(task, optimizer, done, run, ctx, record, metrics)
        step = run.last_step
    finally:
        progress.close()
    if last_eval != step:
        metrics = _evaluate(task, step, t0, run, ctx)
    ckpt = _save(task, optimizer, step, run, ctx, record, metrics)
    if ctx.is_main:
        logbook.write_loss_curve(run.out_dir, f"{task.name}: {record['data'].get('name', '')}")
    ctx.barrier()
    return TrainResult(
        checkpoint=ckpt,
        steps=step,
        complete=step == run.steps,
        final_metrics=metrics,
        initial_metrics=initial,
        losses=losses,
        wall_s=time.perf_counter() - t0,
        model=model,
    )


def _save(task, optimizer, step, run: RunConfig, ctx: DistContext, record, metrics) -> Path:
    """Weights in our format + train_state.pt (rank 0 writes; every process contributes its
    generator states)."""
    rng_states = ctx.gather_objects(task.rng_state())
    path = run.out_dir / CHECKPOINT_DIR
    if ctx.is_main:
        provenance = {
            "origin": "trained",
            "trained": True,
            "trainer": f"egom2p_edge.training.trainers ({task.name})",
            "sdk_version": __version__,
            "data": record["data"],
            "steps": step,
            "schedule_steps": run.steps,
            "complete": step == run.steps,
            "global_batch": run.batch_size * ctx.world_size,
            "world_size": ctx.world_size,
            "seed": run.seed,
            "optim": record["optim"],
            "final_metrics": {k: v for k, v in metrics.items() if math.isfinite(v)},
            **task.extra_provenance(),
        }
        save_checkpoint(path, task.kind, task.model_config(), task.model.state_dict(), provenance)
        save_train_state(run.out_dir, step, optimizer, rng_states)
    ctx.barrier()
    return path
