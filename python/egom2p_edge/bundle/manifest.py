"""The bundle manifest (``bundle.json``): ``Manifest`` and its exact JSON reading and writing.

Its entries live in ``stages`` (graphs, files) and ``sections`` (model, decoding, options);
the optional ``precision`` and ``validation`` (``precision``) and ``engines`` (``engines``)
sections came later within format version 1: absent, a bundle is fp32 with no validation set and
no TensorRT engine, and ``to_dict`` leaves them out, so such a bundle's JSON is unchanged.
``Manifest.from_dict`` checks the magic string and the format version before anything else, then
every field's type and value; errors name the file and the field. ``to_dict`` writes the same
structure back (``from_dict(to_dict(m)) == m``). Which files exist and what the ONNX graphs say
is checked by ``egom2p_edge.bundle.load``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from egom2p_edge.bundle import names
from egom2p_edge.bundle.engines import EngineRecord
from egom2p_edge.bundle.precision import (
    AccuracyGate,
    PrecisionSpec,
    StagePrecision,
    ValidationSpec,
    check_precision_stages,
)
from egom2p_edge.bundle.schema import Fields, ManifestError
from egom2p_edge.bundle.sections import (
    DECODING_MODES,
    EXECUTION_MODES,
    GRAPH_OPTIMIZATION,
    SCHEMES,
    TOKEN_SCHEDULES,
    BackboneSpec,
    DecodingDefaults,
    DecodingSpec,
    ModalityEntry,
    PresetInfo,
    SessionOptions,
    Tolerances,
    TrajectorySpec,
    VideoSpec,
)
from egom2p_edge.bundle.stages import DTYPES, EXPORTERS, FileEntry, StageSpec, TensorSpec

__all__ = [
    "DECODING_MODES",
    "DTYPES",
    "EXECUTION_MODES",
    "EXPORTERS",
    "GRAPH_OPTIMIZATION",
    "SCHEMES",
    "TOKEN_SCHEDULES",
    "AccuracyGate",
    "BackboneSpec",
    "DecodingDefaults",
    "DecodingSpec",
    "EngineRecord",
    "FileEntry",
    "Manifest",
    "ModalityEntry",
    "PrecisionSpec",
    "PresetInfo",
    "SessionOptions",
    "StagePrecision",
    "StageSpec",
    "TensorSpec",
    "Tolerances",
    "TrajectorySpec",
    "ValidationSpec",
    "VideoSpec",
]


@dataclass(frozen=True)
class Manifest:
    """Everything ``bundle.json`` holds (see the module docstring of ``egom2p_edge.bundle``)."""

    created_utc: str
    sdk_version: str
    preset: PresetInfo
    session_options: SessionOptions
    tolerances: Tolerances
    files: tuple[FileEntry, ...]
    stages: dict[str, StageSpec]
    modalities: tuple[ModalityEntry, ...]
    trajectory: TrajectorySpec | None
    video: VideoSpec | None
    backbone: BackboneSpec | None
    decoding: DecodingSpec | None
    provenance: dict[str, Any] = field(default_factory=dict)
    magic: str = names.BUNDLE_MAGIC
    format_version: int = names.FORMAT_VERSION
    precision: PrecisionSpec | None = None  # None: every stage fp32
    validation: ValidationSpec | None = None
    engines: tuple[EngineRecord, ...] = ()

    # ----- reading -------------------------------------------------------------------------

    @staticmethod
    def check_header(d: Any, source: str) -> None:
        """Magic string and format version, checked before any other field."""
        if not isinstance(d, dict) or d.get("magic") != names.BUNDLE_MAGIC:
            found = d.get("magic") if isinstance(d, dict) else type(d).__name__
            raise ManifestError(
                f"{source}: field 'magic' must be {names.BUNDLE_MAGIC!r}, found {found!r}; this "
                f"is not an egom2p-edge bundle manifest"
            )
        version = d.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ManifestError(
                f"{source}: field 'format_version' must be a positive integer, found {version!r}"
            )
        if version > names.FORMAT_VERSION:
            raise ManifestError(
                f"{source}: field 'format_version' is {version}, newer than this SDK reads "
                f"(1..{names.FORMAT_VERSION}); upgrade egom2p-edge, or re-export the bundle "
                f"with this version"
            )

    @staticmethod
    def from_dict(d: Any, source: str = names.MANIFEST_FILE) -> Manifest:
        Manifest.check_header(d, source)
        f = Fields(d, "", source)
        sf = f.obj_("stages")
        stages = {k: StageSpec.from_fields(k, sf.obj_(k)) for k in sf.obj}
        mods = tuple(
            ModalityEntry.from_fields(f.item("modalities", i))
            for i in range(len(f.list("modalities")))
        )
        if [m.index for m in mods] != list(range(len(mods))):
            raise f.fail(
                "modalities", "must be listed by index 0, 1, 2, ...", [m.index for m in mods]
            )
        opt = {k: f.obj_(k, optional=True) for k in ("trajectory", "video", "backbone", "decoding")}
        opt_p = {k: f.obj_(k, optional=True) for k in ("precision", "validation")}
        provenance = f.raw("provenance")
        if not isinstance(provenance, dict):
            raise f.fail("provenance", "must be an object", type(provenance).__name__)
        m = Manifest(
            created_utc=f.str("created_utc"),
            sdk_version=f.str("sdk_version"),
            preset=PresetInfo.from_fields(f.obj_("preset")),
            session_options=SessionOptions.from_fields(f.obj_("session_options")),
            tolerances=Tolerances.from_fields(f.obj_("tolerances")),
            files=tuple(
                FileEntry.from_fields(f.item("files", i)) for i in range(len(f.list("files")))
            ),
            stages=stages,
            modalities=mods,
            trajectory=None
            if opt["trajectory"] is None
            else TrajectorySpec.from_fields(opt["trajectory"]),
            video=None if opt["video"] is None else VideoSpec.from_fields(opt["video"]),
            backbone=None if opt["backbone"] is None else BackboneSpec.from_fields(opt["backbone"]),
            decoding=None if opt["decoding"] is None else DecodingSpec.from_fields(opt["decoding"]),
            provenance=provenance,
            magic=d["magic"],
            format_version=d["format_version"],
            precision=None
            if opt_p["precision"] is None
            else PrecisionSpec.from_fields(opt_p["precision"]),
            validation=None
            if opt_p["validation"] is None
            else ValidationSpec.from_fields(opt_p["validation"]),
            engines=tuple(
                EngineRecord.from_fields(f.item("engines", i))
                for i in range(len(f.list("engines", optional=True) or []))
            ),
        )
        m.check_consistency(source)
        return m

    def check_consistency(self, source: str = names.MANIFEST_FILE) -> None:
        """Cross-field rules: stage files listed, modality names unique, targets known."""
        self._check_model_fields(source)
        self._check_added_sections(source)

    def _check_added_sections(self, source: str) -> None:
        """``precision`` covers the stages; the validation and engine files are listed."""
        listed = {e.name for e in self.files}
        if self.precision is not None:
            check_precision_stages(self.precision, self.stages, source)
        if self.validation is not None and self.validation.file not in listed:
            raise ManifestError(
                f"{source}: field 'validation.file' names {self.validation.file}, which 'files' "
                f"does not list"
            )
        for i, e in enumerate(self.engines):
            if e.stage not in self.stages:
                raise ManifestError(
                    f"{source}: field 'engines[{i}].stage' names {e.stage!r}, which the bundle "
                    f"does not have"
                )
            if e.file not in listed:
                raise ManifestError(
                    f"{source}: field 'engines[{i}].file' names {e.file}, which 'files' does "
                    f"not list"
                )

    def _check_model_fields(self, source: str) -> None:
        listed = {e.name for e in self.files}
        if len(listed) != len(self.files):
            raise ManifestError(f"{source}: field 'files' lists a file twice")
        if names.GOLDENS_FILE not in listed:
            raise ManifestError(f"{source}: field 'files' must list {names.GOLDENS_FILE}")
        if not self.stages:
            raise ManifestError(f"{source}: field 'stages' is empty; a bundle has >= 1 stage")
        for s in self.stages.values():
            if s.file != names.stage_file(s.name):
                raise ManifestError(
                    f"{source}: field 'stages.{s.name}.file' must be "
                    f"{names.stage_file(s.name)!r}, found {s.file!r}"
                )
            if s.file not in listed:
                raise ManifestError(
                    f"{source}: field 'stages.{s.name}.file' names {s.file}, which 'files' "
                    f"does not list"
                )
        by_name = {m.name: m for m in self.modalities}
        if len(by_name) != len(self.modalities):
            raise ManifestError(f"{source}: field 'modalities' repeats a modality name")
        for m in self.modalities:
            for key in ("encoder_stage", "decoder_stage"):
                st = getattr(m, key)
                if st is not None and st not in self.stages:
                    raise ManifestError(
                        f"{source}: field 'modalities[{m.index}].{key}' names stage {st!r}, "
                        f"which the bundle does not have"
                    )
        has_bb = names.BACKBONE_ENCODER in self.stages
        if has_bb != (self.backbone is not None) or has_bb != (self.decoding is not None):
            raise ManifestError(
                f"{source}: fields 'backbone' and 'decoding' must be present exactly when the "
                f"stage {names.BACKBONE_ENCODER} is"
            )
        if self.backbone is not None and self.decoding is not None:
            for t in self.backbone.decoder_targets:
                if t not in by_name or not by_name[t].backbone_target:
                    raise ManifestError(
                        f"{source}: field 'backbone.decoder_targets' names {t!r}, which is not a "
                        f"backbone target in 'modalities'"
                    )
            for key, group in (
                ("decoding.targets", tuple(self.decoding.targets)),
                ("decoding.default_targets", self.decoding.default_targets),
            ):
                bad = [t for t in group if t not in self.backbone.decoder_targets]
                if bad:
                    raise ManifestError(
                        f"{source}: field '{key}' names {bad}, not among the decoder targets "
                        f"{list(self.backbone.decoder_targets)}"
                    )
            bad = [c for c in self.decoding.condition if c not in by_name]
            if bad:
                raise ManifestError(
                    f"{source}: field 'decoding.condition' names unknown modalities {bad}"
                )

    # ----- writing / queries ----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "magic": self.magic,
            "format_version": self.format_version,
            "created_utc": self.created_utc,
            "sdk_version": self.sdk_version,
            "preset": self.preset.to_dict(),
            "session_options": self.session_options.to_dict(),
            "tolerances": self.tolerances.to_dict(),
            "files": [e.to_dict() for e in self.files],
            "stages": {k: v.to_dict() for k, v in self.stages.items()},
            "modalities": [m.to_dict() for m in self.modalities],
            "trajectory": None if self.trajectory is None else self.trajectory.to_dict(),
            "video": None if self.video is None else self.video.to_dict(),
            "backbone": None if self.backbone is None else self.backbone.to_dict(),
            "decoding": None if self.decoding is None else self.decoding.to_dict(),
            "provenance": self.provenance,
        }
        # Added sections are written only when present: older bundles' JSON stays as it was.
        if self.precision is not None:
            d["precision"] = self.precision.to_dict()
        if self.validation is not None:
            d["validation"] = self.validation.to_dict()
        if self.engines:
            d["engines"] = [e.to_dict() for e in self.engines]
        return d

    def modality(self, name: str) -> ModalityEntry:
        """A row of the modality table by model key (``tok_cam``) or short name (``cam``)."""
        for m in self.modalities:
            if name in (m.name, m.short):
                return m
        raise ValueError(
            f"the bundle has no modality {name!r}; it has {[m.name for m in self.modalities]}"
        )

    def stage_precision(self, stage: str) -> str:
        """``fp32``, ``fp16`` or ``int8``: the precision of a stage's graph."""
        if stage not in self.stages:
            raise ValueError(f"the bundle has no stage {stage!r}; it has {list(self.stages)}")
        if self.precision is None:
            return "fp32"
        return self.precision.stages[stage].precision

    def file(self, name: str) -> FileEntry:
        for e in self.files:
            if e.name == name:
                return e
        raise ValueError(f"the manifest lists no file {name!r}")
