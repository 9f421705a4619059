"""The `egom2p` dispatcher, lazy imports and `egom2p doctor`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from egom2p_edge.cli.commands import COMMANDS
from egom2p_edge.cli.main import main


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "egom2p_edge.cli.main", *args], capture_output=True, text=True
    )


def test_core_import_is_light_and_one_way() -> None:
    code = (
        "import sys, egom2p_edge, egom2p_edge.cli.main, egom2p_edge.modalities;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'onnxruntime')"
        " or m.startswith(('egom2p_edge.training', 'egom2p_edge.export', 'egom2p_edge.devices'))];"
        "print(bad)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "[]"


def test_help_lists_every_command() -> None:
    res = _run("--help")
    assert res.returncode == 0
    for name in COMMANDS:
        assert name in res.stdout


def test_subcommand_help_comes_from_its_module() -> None:
    res = _run("doctor", "--help")
    assert res.returncode == 0
    assert "--json" in res.stdout


def test_unknown_command_fails() -> None:
    res = _run("frobnicate")
    assert res.returncode != 0
    assert "invalid choice" in res.stderr


def test_doctor_json_reports_runtime(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("python", "torch", "onnx", "onnxruntime", "runtime", "cuda_device"):
        assert key in report
    rt = report["runtime"]
    assert rt["built"] is True
    assert rt["onnxruntime_library_version"] == report["onnxruntime"]
    assert rt["onnxruntime_headers_version"]
    assert isinstance(rt["tensorrt"], bool)
    assert rt["compiler"]


def test_doctor_human_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "ONNX Runtime library" in out
    assert out.strip().splitlines()[-1].startswith("doctor: OK")
