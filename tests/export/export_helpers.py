"""Helpers of the export tests: run `egom2p` in-process, export a bundle."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

from egom2p_edge.cli.main import main


@dataclass(frozen=True)
class Exported:
    path: Path
    stdout: str
    stderr: str


def run_cli(*args: str) -> tuple[int, str, str]:
    """Run ``egom2p ARGS`` in this process; (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(args))
    return rc, out.getvalue(), err.getvalue()


def export(out: Path, **components: str) -> Exported:
    args = ["export", "--target", "cpu-fp32", "--out", str(out)]
    for key, value in components.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    rc, stdout, stderr = run_cli(*args)
    assert rc == 0, f"export failed ({rc}):\n{stdout}\n{stderr}"
    return Exported(out, stdout, stderr)


def derive(out: Path, source: Path, target: str, *extra: str) -> Exported:
    """``egom2p export --target TARGET --from-bundle SOURCE --out OUT EXTRA...``."""
    args = ["export", "--target", target, "--from-bundle", str(source), "--out", str(out), *extra]
    rc, stdout, stderr = run_cli(*args)
    assert rc == 0, f"export {target} failed ({rc}):\n{stdout}\n{stderr}"
    return Exported(out, stdout, stderr)
