"""Manifest entries that describe files: each stage's graph (tensors, exporter, opset) and each
file's size and sha256. Parsed with ``Fields`` so errors name the ``bundle.json`` field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from egom2p_edge.bundle import names
from egom2p_edge.bundle.schema import Fields, ManifestError

DTYPES = ("float32", "float16", "int64", "int32", "uint8", "bool")
EXPORTERS = ("dynamo", "torchscript")
SHA256_HEX = 64


@dataclass(frozen=True)
class TensorSpec:
    """One graph input or output: name, dtype, shape (int = static, str = named dynamic axis);
    ``compare`` (outputs only): how verification checks it (``names.COMPARE_KINDS``)."""

    name: str
    dtype: str
    shape: tuple[int | str, ...]
    compare: str | None = None

    @staticmethod
    def from_fields(f: Fields, is_output: bool) -> TensorSpec:
        shape = f.list("shape")
        for i, d in enumerate(shape):
            ok_int = isinstance(d, int) and not isinstance(d, bool) and d >= 1
            if not (ok_int or d in names.DIMS):
                raise f.fail(
                    "shape", f"entry {i} must be an integer >= 1 or one of {list(names.DIMS)}", d
                )
        compare = f.str("compare", names.COMPARE_KINDS) if is_output else None
        return TensorSpec(f.str("name"), f.str("dtype", DTYPES), tuple(shape), compare)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}
        if self.compare is not None:
            d["compare"] = self.compare
        return d


@dataclass(frozen=True)
class StageSpec:
    """One exported stage: its ONNX file, the component it comes from, how it was exported."""

    name: str
    file: str
    component: str  # "backbone", "cam_tokenizer", "gaze_tokenizer" or "video_tokenizer"
    exporter: str  # "dynamo" or "torchscript" (torch.onnx.export)
    opset: int
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    @staticmethod
    def from_fields(name: str, f: Fields) -> StageSpec:
        if name not in names.STAGES:
            raise ManifestError(
                f"{f.source}: field '{f.path}' is not a known stage; known stages are "
                f"{list(names.STAGES)} (a newer SDK may know more)"
            )
        ins = tuple(
            TensorSpec.from_fields(f.item("inputs", i), False) for i in range(len(f.list("inputs")))
        )
        outs = tuple(
            TensorSpec.from_fields(f.item("outputs", i), True)
            for i in range(len(f.list("outputs")))
        )
        want_in, want_out = names.STAGE_TENSORS[name]
        for key, got, want in (("inputs", ins, want_in), ("outputs", outs, want_out)):
            if [t.name for t in got] != [w.name for w in want]:
                raise f.fail(
                    key, f"must name {[w.name for w in want]} in this order", [t.name for t in got]
                )
        return StageSpec(
            name=name,
            file=f.str("file"),
            component=f.str("component"),
            exporter=f.str("exporter", EXPORTERS),
            opset=f.int("opset", minimum=17),
            inputs=ins,
            outputs=outs,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "component": self.component,
            "exporter": self.exporter,
            "opset": self.opset,
            "inputs": [t.to_dict() for t in self.inputs],
            "outputs": [t.to_dict() for t in self.outputs],
        }

    def tensor(self, name: str) -> TensorSpec:
        for t in self.inputs + self.outputs:
            if t.name == name:
                return t
        raise ValueError(f"stage {self.name} has no tensor {name!r}")


@dataclass(frozen=True)
class FileEntry:
    """A file of the bundle with its size in bytes and sha256 (hex)."""

    name: str
    bytes: int
    sha256: str

    @staticmethod
    def from_fields(f: Fields) -> FileEntry:
        sha = f.str("sha256")
        if len(sha) != SHA256_HEX or any(c not in "0123456789abcdef" for c in sha):
            raise f.fail("sha256", "must be 64 lowercase hex digits", sha)
        name = f.str("name")
        if "/" in name or "\\" in name or name in ("", ".", "..", names.MANIFEST_FILE):
            raise f.fail("name", "must be a plain file name inside the bundle", name)
        return FileEntry(name, f.int("bytes", minimum=0), sha)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "bytes": self.bytes, "sha256": self.sha256}
