"""What a run writes besides weights: JSON-lines logs, the progress bar and the loss-curve PNG.

``train_log.jsonl``: one object per ``log_every`` steps (``step``, ``loss``, ``lr``, ``grad_norm``,
the loss terms, ``samples_per_s``). ``eval_log.jsonl``: one object per evaluation (``step``,
``elapsed_s`` and the metrics). A resumed run first drops lines past its step, so the logs read as
one uninterrupted run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

TRAIN_LOG = "train_log.jsonl"
EVAL_LOG = "eval_log.jsonl"
CURVE_PNG = "loss_curve.png"


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({k: _clean(v) for k, v in record.items()}) + "\n")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a line cut by a crash ends the log
    return out


def truncate_jsonl(path: Path, last_step: int) -> None:
    """Keep only records with ``step <= last_step`` (after a resume)."""
    keep = [r for r in read_jsonl(path) if int(r.get("step", 0)) <= last_step]
    path.write_text("".join(json.dumps(r) + "\n" for r in keep), encoding="utf-8")


def write_loss_curve(out_dir: Path, title: str) -> Path | None:
    """Plot the train loss (and eval loss, when logged) against the step. None without data."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    train = read_jsonl(out_dir / TRAIN_LOG)
    evals = read_jsonl(out_dir / EVAL_LOG)
    pts = [(r["step"], r["loss"]) for r in train if r.get("loss") is not None]
    if not pts:
        return None
    fig = Figure(figsize=(7, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(
        [s for s, _ in pts], [v for _, v in pts], lw=1, label="train loss (the optimised total)"
    )
    ev = [(r["step"], r["val_loss"]) for r in evals if r.get("val_loss") is not None]
    if ev:
        ax.plot([s for s, _ in ev], [v for _, v in ev], "o-", label="held-out val_loss")
    if all(v > 0 for _, v in pts + ev):
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = out_dir / CURVE_PNG
    fig.savefig(path)
    return path


class Progress:
    """A tqdm bar (rate and ETA) with the loss, or nothing when disabled."""

    def __init__(self, enabled: bool, total: int, initial: int, desc: str) -> None:
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total, initial=initial, desc=desc, unit="step", dynamic_ncols=True
            )

    def update(self, metrics: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.set_postfix(
                {k: f"{v:.4g}" for k, v in metrics.items() if v is not None}, refresh=False
            )
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
