"""Bundles exported once per session for the export tests (through the `egom2p export` command).

- ``tiny_bundle``: random-weight ego-tiny backbone + camera, gaze and video tokenizers.
- ``tiny_traj_bundle``: the random camera and gaze tokenizers alone (small; tampered copies).
- ``parity_bundle``: the parity fixtures' official backbone + camera + gaze tokenizer ``.pth``.
- ``parity_video_bundle``: the parity fixtures' released-format ``encoder.jit``/``decoder.jit``
  alone (its 64,000 codes do not fit the parity backbone's 1,000-id video vocabulary).
- ``int8_bundle`` / ``fp16_bundle``: ``tiny_bundle`` derived to ``cpu-int8`` (1 calibration
  clip, 1 validation window) and ``orin-fp16`` (no validation set) with ``--from-bundle``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from export_helpers import Exported, derive, export

torch = pytest.importorskip("torch")
pytest.importorskip("onnxscript")


@pytest.fixture(scope="session", autouse=True)
def _quiet_exporters():
    # The exporters log every graph rewrite at INFO: noise in test reports.
    levels = {n: logging.getLogger(n).level for n in ("onnx_ir", "onnxscript")}
    for name in levels:
        logging.getLogger(name).setLevel(logging.WARNING)
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from egom2p_edge.export.random_models import write_random_checkpoints

    return write_random_checkpoints(tmp_path_factory.mktemp("ckpt"), "ego-tiny", seed=0)


@pytest.fixture(scope="session")
def tiny_bundle(tiny_checkpoints, tmp_path_factory: pytest.TempPathFactory) -> Exported:
    c = tiny_checkpoints
    return export(
        tmp_path_factory.mktemp("tiny") / "bundle",
        model=c["backbone"],
        cam_tokenizer=c["cam_tokenizer"],
        gaze_tokenizer=c["gaze_tokenizer"],
        video_tokenizer=c["video_tokenizer"],
    )


@pytest.fixture(scope="session")
def tiny_traj_bundle(tiny_checkpoints, tmp_path_factory: pytest.TempPathFactory) -> Exported:
    c = tiny_checkpoints
    return export(
        tmp_path_factory.mktemp("traj") / "bundle",
        cam_tokenizer=c["cam_tokenizer"],
        gaze_tokenizer=c["gaze_tokenizer"],
    )


@pytest.fixture(scope="session")
def parity_bundle(parity_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Exported:
    return export(
        tmp_path_factory.mktemp("parity") / "bundle",
        model=parity_dir / "backbone" / "checkpoint.pth",
        cam_tokenizer=parity_dir / "cam_tokenizer" / "checkpoint.pth",
        gaze_tokenizer=parity_dir / "gaze_tokenizer" / "checkpoint.pth",
    )


@pytest.fixture(scope="session")
def parity_video_bundle(parity_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Exported:
    return export(
        tmp_path_factory.mktemp("parity_video") / "bundle",
        video_tokenizer=parity_dir / "video_tokenizer",
    )


@pytest.fixture(scope="session")
def int8_bundle(tiny_bundle, tmp_path_factory: pytest.TempPathFactory) -> Exported:
    out = tmp_path_factory.mktemp("int8") / "bundle"
    return derive(out, tiny_bundle.path, "cpu-int8", "--calibration-clips", "1",
                  "--validation-windows", "1")  # fmt: skip


@pytest.fixture(scope="session")
def fp16_bundle(tiny_bundle, tmp_path_factory: pytest.TempPathFactory) -> Exported:
    out = tmp_path_factory.mktemp("fp16") / "bundle"
    return derive(out, tiny_bundle.path, "orin-fp16", "--validation-windows", "0")


BUNDLES = ("tiny_bundle", "parity_bundle", "parity_video_bundle")


@pytest.fixture(params=BUNDLES)
def any_bundle(request: pytest.FixtureRequest) -> Exported:
    return request.getfixturevalue(request.param)
