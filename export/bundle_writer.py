"""``export_bundle``: components -> a validated bundle folder (ONNX stages, goldens, manifest).

The bundle is written into a temporary sibling folder, validated with ``load_bundle`` and only
then moved into place, so ``--out`` never holds a half-written bundle. An existing ``--out`` is
replaced only when it is empty or holds a bundle.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from egom2p_edge._version import __version__
from egom2p_edge.bundle import names
from egom2p_edge.bundle.goldens import write_goldens
from egom2p_edge.bundle.load import Bundle, load_bundle
from egom2p_edge.bundle.manifest import FileEntry, Manifest
from egom2p_edge.export.components import Component
from egom2p_edge.export.layout import plan_bundle
from egom2p_edge.export.onnx_export import ExportResult, export_stage
from egom2p_edge.export.presets import ExportPreset
from egom2p_edge.export.stage_jobs import build_jobs
from egom2p_edge.files import sha256_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportSummary:
    bundle: Bundle
    results: dict[str, ExportResult]
    total_bytes: int


def _versions() -> dict[str, str]:
    import onnx
    import onnxruntime
    import torch

    out = {
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
    }
    try:
        import onnxscript

        out["onnxscript"] = onnxscript.__version__
    except ImportError:
        out["onnxscript"] = "not installed"
    return out


def check_out_folder(out: Path) -> None:
    """Refuse an ``--out`` that a bundle may not replace: a file, or a non-empty folder that is
    not a bundle."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a folder for the bundle")
    if out.is_dir() and any(out.iterdir()) and not (out / names.MANIFEST_FILE).is_file():
        raise ValueError(
            f"--out {out} is a non-empty folder without {names.MANIFEST_FILE}; refusing to "
            f"replace it (give an empty or new folder, or a previous bundle)"
        )


def _move_into_place(tmp: Path, out: Path) -> None:
    old = out.with_name(f".{out.name}.old-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    if old.exists():
        shutil.rmtree(old)


@contextmanager
def bundle_under_construction(out: Path) -> Iterator[Path]:
    """A fresh partial folder beside ``out`` to write a bundle into. When the block ends
    normally, the folder (its manifest written with ``write_manifest``) must pass
    ``load_bundle``'s checks, and then replaces ``out``; on any error it is removed and ``out``
    stays as it was."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    tmp.mkdir()
    try:
        yield tmp
        load_bundle(tmp)  # the written bundle must pass the reader's checks
        _move_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def file_entries(folder: Path) -> tuple[FileEntry, ...]:
    """The manifest's ``files``: every file of ``folder`` with its size and sha256, by name."""
    return tuple(
        FileEntry(p.name, p.stat().st_size, sha256_file(p)) for p in sorted(folder.iterdir())
    )


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Check ``manifest``'s consistency and write it as ``folder``'s bundle.json."""
    manifest.check_consistency()
    text = json.dumps(manifest.to_dict(), indent=1, allow_nan=False) + "\n"
    (folder / names.MANIFEST_FILE).write_text(text, encoding="utf-8")


def export_bundle(
    components: dict[str, Component],
    preset: ExportPreset,
    out: str | Path,
    seed: int = 0,
    progress: Any = None,
) -> ExportSummary:
    """Export every stage the components allow (see ``plan_bundle``) to the folder ``out``.

    components: role -> Component; preset: the export target; seed: of the golden inputs;
    progress: a tqdm-like object (``set_description``, ``update``) advanced once per stage.
    MisfitError / ValueError for components that cannot be exported together.
    """
    out = Path(out)
    check_out_folder(out)
    plan = plan_bundle(components)
    jobs = build_jobs(components, plan, seed)
    with bundle_under_construction(out) as tmp:
        results: dict[str, ExportResult] = {}
        goldens: dict[str, dict] = {}
        for job in jobs:
            if progress is not None:
                progress.set_description(job.stage)
            results[job.stage] = export_stage(
                job, plan.stages[job.stage], preset, tmp / names.stage_file(job.stage)
            )
            goldens[job.stage] = {**job.inputs, **job.outputs}
            if progress is not None:
                progress.update(1)
        write_goldens(tmp / names.GOLDENS_FILE, goldens)
        files = file_entries(tmp)
        created = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        provenance = {
            "components": {role: c.describe() for role, c in components.items()},
            "export": {
                "tool": f"egom2p-edge {__version__} (egom2p_edge.export)",
                "versions": _versions(),
                "opset": preset.opset,
                "target": preset.name,
                "golden_seed": seed,
                "exporter_attempts": {s: r.attempts for s, r in results.items()},
                "options": {
                    "dynamo_external_data": False,
                    "torchscript_constant_folding": True,
                    "exporter_order": {s: list(preset.exporters[s]) for s in results},
                    "graph_cleanup": {
                        s: r.cleanup for s, r in results.items() if any(r.cleanup.values())
                    },
                },
            },
        }
        manifest = Manifest(
            created_utc=created,
            sdk_version=__version__,
            preset=preset.info(),
            session_options=preset.session_options,
            tolerances=preset.tolerances,
            files=files,
            stages={s: r.spec for s, r in results.items()},
            modalities=plan.modalities,
            trajectory=plan.trajectory,
            video=plan.video,
            backbone=plan.backbone,
            decoding=plan.decoding,
            provenance=provenance,
        )
        write_manifest(tmp, manifest)
    bundle = load_bundle(out, check_hashes=False)
    total = sum(f.bytes for f in manifest.files)
    log.info("wrote bundle %s: %d stages, %d bytes", out, len(results), total)
    return ExportSummary(bundle, results, total)
