"""``load_bundle``: read and validate a bundle folder before anything runs from it.

Checks, in order: the folder and ``bundle.json`` exist; the magic string and format version;
every manifest field; every listed file exists with its size and sha256; each stage's ONNX graph
has exactly the inputs and outputs (names, dtypes, static sizes, dynamic axis names) and opset
the manifest describes; the goldens hold every stage tensor with its dtype and a shape that fits.
Every error names the file and the field.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from egom2p_edge.bundle import names
from egom2p_edge.bundle.goldens import golden_headers, read_goldens
from egom2p_edge.bundle.manifest import Manifest, StageSpec, TensorSpec
from egom2p_edge.bundle.schema import ManifestError
from egom2p_edge.files import sha256_file

log = logging.getLogger(__name__)

# onnx.TensorProto element types -> manifest dtypes
ONNX_DTYPES = {1: "float32", 10: "float16", 7: "int64", 6: "int32", 2: "uint8", 9: "bool"}


class BundleError(ValueError):
    """A bundle failed validation (the message names the file and the field)."""


@dataclass(frozen=True)
class Bundle:
    """A validated bundle: its folder and its manifest."""

    root: Path
    manifest: Manifest

    def stage(self, name: str) -> StageSpec:
        if name not in self.manifest.stages:
            raise ValueError(
                f"bundle {self.root} has no stage {name!r}; it has {list(self.manifest.stages)}"
            )
        return self.manifest.stages[name]

    def stage_path(self, name: str) -> Path:
        """Path of a stage's ONNX file."""
        return self.root / self.stage(name).file

    @property
    def stages(self) -> tuple[str, ...]:
        return tuple(self.manifest.stages)

    def goldens(self) -> dict[str, dict[str, np.ndarray]]:
        """``{stage: {tensor: array}}`` golden inputs and outputs."""
        return read_goldens(self.root / names.GOLDENS_FILE)


def read_manifest(root: str | Path) -> Manifest:
    """The parsed and field-checked manifest of a bundle folder (files are not checked)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"bundle folder {root} does not exist (make one with egom2p export)"
        )
    path = root / names.MANIFEST_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: a bundle folder holds {names.MANIFEST_FILE}, one ONNX file per "
            f"stage and {names.GOLDENS_FILE} (make one with egom2p export)"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path} is not valid JSON: {exc}") from None
    try:
        return Manifest.from_dict(data, str(path))
    except ManifestError as exc:
        raise BundleError(str(exc)) from None


def _check_files(root: Path, manifest: Manifest, check_hashes: bool) -> None:
    for i, entry in enumerate(manifest.files):
        p = root / entry.name
        where = f"{root / names.MANIFEST_FILE}: field 'files[{i}]'"
        if not p.is_file():
            raise BundleError(f"{p} is missing ({where} lists it); the bundle is incomplete")
        size = p.stat().st_size
        if size != entry.bytes:
            raise BundleError(
                f"{p} has {size} bytes but {where}.bytes says {entry.bytes}; the file was altered "
                f"or truncated: re-export the bundle"
            )
        if check_hashes:
            digest = sha256_file(p)
            if digest != entry.sha256:
                raise BundleError(
                    f"{p} has sha256 {digest} but {where}.sha256 says {entry.sha256}; the file "
                    f"was altered: re-export the bundle"
                )
    listed = {e.name for e in manifest.files} | {names.MANIFEST_FILE}
    extra = sorted(p.name for p in root.iterdir() if p.name not in listed)
    if extra:
        log.warning("bundle %s holds files its manifest does not list (ignored): %s", root, extra)


def _onnx_dims(value_info) -> list[int | str | None]:
    dims: list[int | str | None] = []
    for d in value_info.type.tensor_type.shape.dim:
        if d.HasField("dim_value"):
            dims.append(int(d.dim_value))
        elif d.HasField("dim_param"):
            dims.append(d.dim_param)
        else:
            dims.append(None)
    return dims


def _check_tensor(path: Path, stage: str, kind: str, spec: TensorSpec, vi) -> None:
    field = f"stages.{stage}.{kind}"
    dtype = ONNX_DTYPES.get(
        vi.type.tensor_type.elem_type, f"onnx type {vi.type.tensor_type.elem_type}"
    )
    if dtype != spec.dtype:
        raise BundleError(
            f"{path}: {kind[:-1]} {spec.name!r} has dtype {dtype}, but bundle.json field "
            f"'{field}' says {spec.dtype}; the manifest does not describe this graph"
        )
    dims = _onnx_dims(vi)
    if len(dims) != len(spec.shape) or any(a != b for a, b in zip(dims, spec.shape)):
        raise BundleError(
            f"{path}: {kind[:-1]} {spec.name!r} has shape {dims}, but bundle.json field "
            f"'{field}' says {list(spec.shape)}; the manifest does not describe this graph"
        )


def check_onnx_graph(path: Path, spec: StageSpec) -> None:
    """The graph's inputs, outputs and opset must be exactly those of ``spec``."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 (protobuf raises several kinds)
        raise BundleError(
            f"{path}: cannot read the ONNX graph of stage {spec.name}: {exc}"
        ) from None
    graph = model.graph
    init = {t.name for t in graph.initializer}
    inputs = [vi for vi in graph.input if vi.name not in init]
    for kind, got, want in (
        ("inputs", inputs, spec.inputs),
        ("outputs", graph.output, spec.outputs),
    ):
        got_names = [vi.name for vi in got]
        want_names = [t.name for t in want]
        if got_names != want_names:
            raise BundleError(
                f"{path}: graph {kind} are {got_names}, but bundle.json field "
                f"'stages.{spec.name}.{kind}' says {want_names}"
            )
        for t, vi in zip(want, got):
            _check_tensor(path, spec.name, kind, t, vi)
    opsets = {o.domain: o.version for o in model.opset_import}
    opset = opsets.get("", opsets.get("ai.onnx"))
    if opset != spec.opset:
        raise BundleError(
            f"{path}: the graph uses opset {opset}, but bundle.json field "
            f"'stages.{spec.name}.opset' says {spec.opset}"
        )


def _check_goldens(root: Path, manifest: Manifest) -> None:
    path = root / names.GOLDENS_FILE
    headers = golden_headers(path)
    for stage, spec in manifest.stages.items():
        sizes: dict[str, int] = {}
        for t in spec.inputs + spec.outputs:
            key = names.golden_key(stage, t.name)
            if key not in headers:
                raise BundleError(f"{path}: golden tensor {key!r} is missing")
            dtype, shape = headers[key]
            fits = dtype == t.dtype and len(shape) == len(t.shape)
            for got, want in zip(shape, t.shape):
                if isinstance(want, int):
                    fits = fits and got == want
                else:
                    fits = fits and sizes.setdefault(want, got) == got and got >= 1
            if not fits:
                raise BundleError(
                    f"{path}: golden tensor {key!r} is {dtype} {list(shape)}, which does not fit "
                    f"bundle.json field 'stages.{stage}' ({t.dtype} {list(t.shape)}, dynamic "
                    f"axes consistent across the stage's tensors)"
                )


def load_bundle(path: str | Path, check_hashes: bool = True) -> Bundle:
    """A validated ``Bundle``; BundleError / FileNotFoundError name the file and field at fault.

    check_hashes: recompute every file's sha256 (off only where the caller verified them).
    """
    root = Path(path)
    manifest = read_manifest(root)
    _check_files(root, manifest, check_hashes)
    for spec in manifest.stages.values():
        check_onnx_graph(root / spec.file, spec)
    _check_goldens(root, manifest)
    return Bundle(root, manifest)
