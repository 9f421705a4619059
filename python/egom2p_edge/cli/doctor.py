"""Report what this installation has: versions, the C++ runtime build, GPUs and optional parts.

Exits 0 whenever the core install works (a missing GPU, CUDA or TensorRT is reported, not an
error); exits 1 when the core is broken (a required package or the C++ runtime is missing), and
says what to do. With --json only JSON is printed on standard output.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
from typing import Any

REQUIRED = ("numpy", "onnx", "onnxruntime", "safetensors", "av")
OPTIONAL = ("torch", "scipy", "zmq", "onnxscript", "projectaria_tools", "tensorrt", "cuda")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print only JSON on standard output")


def _version(module: str) -> str | None:
    try:
        m = importlib.import_module(module)
    except Exception:  # noqa: BLE001 - any import failure means "not usable here"
        return None
    return str(getattr(m, "__version__", getattr(m, "VERSION", "unknown")))


def _runtime_report() -> dict[str, Any]:
    from egom2p_edge._native import RuntimeNotBuiltError, load_runtime

    try:
        info = load_runtime().build_info()
    except RuntimeNotBuiltError as exc:
        return {
            "built": False,
            "error": str(exc),
            "onnxruntime_headers_version": None,
            "onnxruntime_library_version": None,
            "tensorrt": False,
            "compiler": None,
        }
    return {"built": True, **info}


def _cuda_device() -> bool | str:
    try:
        import torch
    except ImportError:
        return False
    try:
        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    except Exception:  # noqa: BLE001 - a broken driver is "no device" for this report
        return False
    return False


def _ort_providers() -> list[str]:
    try:
        import onnxruntime
    except ImportError:
        return []
    return list(onnxruntime.get_available_providers())


def collect() -> dict[str, Any]:
    """Everything the doctor reports, as a JSON-serialisable dict."""
    from egom2p_edge import __version__
    from egom2p_edge.paths import shared_dir

    packages = {name: _version(name) for name in REQUIRED + OPTIONAL}
    report: dict[str, Any] = {
        "egom2p_edge": __version__,
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "torch": packages["torch"],
        "onnx": packages["onnx"],
        "onnxruntime": packages["onnxruntime"],
        "onnxruntime_providers": _ort_providers(),
        "packages": packages,
        "runtime": _runtime_report(),
        "cuda_device": _cuda_device(),
        "shared_fixtures": str(shared_dir()) if shared_dir() else None,
    }
    problems = [
        f"required package {n!r} is missing: pip install {n}"
        for n in REQUIRED
        if packages[n] is None
    ]
    if not report["runtime"]["built"]:
        problems.append(report["runtime"]["error"])
    warnings = []
    if packages["torch"] is None:
        warnings.append(
            "torch is not installed: the reference model, export and training need it "
            "(pip install torch==2.13.0 on CPU machines; see README for CUDA/JetPack)"
        )
    if report["cuda_device"] is False:
        warnings.append("no CUDA device: GPU backends and TensorRT tests are skipped here")
    report["problems"] = problems
    report["warnings"] = warnings
    report["ok"] = not problems
    return report


def _print_human(r: dict[str, Any]) -> None:
    def line(label: str, value: Any) -> None:
        print(f"  {label:<28} {value}")

    print(f"egom2p-edge {r['egom2p_edge']} on Python {r['python']} ({r['platform']})")
    print("packages:")
    for name, v in r["packages"].items():
        line(name, v or "not installed")
    rt = r["runtime"]
    print("C++ runtime (egom2p_edge._runtime):")
    line("built", "yes" if rt["built"] else "NO")
    if rt["built"]:
        line("ONNX Runtime headers", rt["onnxruntime_headers_version"])
        line("ONNX Runtime library", rt["onnxruntime_library_version"])
        line("TensorRT backend", "built" if rt["tensorrt"] else "not built (no TensorRT here)")
        line("ZeroMQ", rt.get("zeromq") or "not built")
        line("compiler", rt["compiler"])
    line("ONNX Runtime providers", ", ".join(r["onnxruntime_providers"]) or "none")
    line("CUDA device", r["cuda_device"] or "none (CPU only)")
    line("shared fixtures", r["shared_fixtures"] or "absent (fixture tests skip)")
    for title, items in (("notes", r["warnings"]), ("problems", r["problems"])):
        if items:
            print(f"{title}:")
            for p in items:
                print(f"  - {p}")
    print("doctor: " + ("OK" if r["ok"] else "BROKEN: see problems above"))


def run(args: argparse.Namespace) -> int:
    report = collect()
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_human(report)
    return 0 if report["ok"] else 1
