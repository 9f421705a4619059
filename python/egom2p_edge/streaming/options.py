"""Stream options (``runtime.stream(...)`` arguments) and their resolution against a bundle.

``StreamOptions`` validates what the caller passed (None = the bundle's default);
``resolve_decoding`` combines it with the manifest's per-target decoding defaults into the exact
settings a stream decodes with. The C++ runtime resolves the same way
(``cpp/src/stream_config.cc``).

Rules: targets are named by short (``"gaze"``) or model (``"tok_gaze"``) name, decoded in the
given order (in ``official`` mode a later target is conditioned on the earlier ones); ``mode``
defaults to the first target's default mode; ``steps`` is one int for every target or a mapping
target -> steps (targets it does not name keep their default); ``temperature``,
``guidance_scale`` and ``top_p`` override every target's default. In ``joint`` and
``single_pass`` modes one guidance scale serves each shared step: the first target's.
``reuse_condition`` (default False) encodes the video once per window and reuses it in every
step (``pipeline.decoder``: an approximation, so only in ``joint`` / ``single_pass``; ``official``
stays the paper's recipe).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from egom2p_edge.bundle.manifest import DECODING_MODES, Manifest

MASK64 = (1 << 64) - 1
MAX_COUNT = 1 << 20  # upper bound of hop_frames and steps (C int; far beyond any use)


def _is_int(v: object) -> bool:
    import numpy as np

    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_number(v: object) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(float(v))


@dataclass(frozen=True)
class StreamOptions:
    """What ``stream(...)`` accepts (see the module docstring); validated on creation."""

    targets: tuple[str, ...] = ("gaze", "cam")
    hop_frames: int = 4
    seed: int = 0
    mode: str | None = None
    temperature: float | None = None
    steps: int | Mapping[str, int] | None = None
    guidance_scale: float | None = None
    top_p: float | None = None
    reuse_condition: bool = False

    def __post_init__(self) -> None:
        targets = self.targets
        if isinstance(targets, str) or not isinstance(targets, Sequence) or not targets:
            raise ValueError(
                f"stream: targets must be a non-empty sequence of names such as ('gaze', 'cam'), "
                f"got {targets!r}"
            )
        if not all(isinstance(t, str) for t in targets):
            raise ValueError(f"stream: targets must be strings, got {targets!r}")
        object.__setattr__(self, "targets", tuple(targets))
        if not _is_int(self.hop_frames) or not 1 <= self.hop_frames <= MAX_COUNT:
            raise ValueError(
                f"stream: hop_frames must be an int in [1, {MAX_COUNT}], got {self.hop_frames!r}"
            )
        if not _is_int(self.seed):
            raise ValueError(f"stream: seed must be an int, got {self.seed!r}")
        if self.mode is not None and self.mode not in DECODING_MODES:
            raise ValueError(
                f"stream: mode must be None or one of {list(DECODING_MODES)}, got {self.mode!r}"
            )
        if self.temperature is not None and not (
            _is_number(self.temperature) and self.temperature >= 0
        ):
            raise ValueError(
                f"stream: temperature must be None or a finite number >= 0 (0 = argmax), got "
                f"{self.temperature!r}"
            )
        if self.guidance_scale is not None and not _is_number(self.guidance_scale):
            raise ValueError(
                f"stream: guidance_scale must be None or a finite number (1 = no guidance), got "
                f"{self.guidance_scale!r}"
            )
        if self.top_p is not None and not (_is_number(self.top_p) and 0 <= self.top_p <= 1):
            raise ValueError(
                f"stream: top_p must be None or in [0, 1] (0 = off), got {self.top_p!r}"
            )
        if not isinstance(self.reuse_condition, bool):
            raise ValueError(
                f"stream: reuse_condition must be True or False, got {self.reuse_condition!r}"
            )
        steps = self.steps
        if steps is not None:
            values = list(steps.values()) if isinstance(steps, Mapping) else [steps]
            keys_ok = not isinstance(steps, Mapping) or all(isinstance(k, str) for k in steps)
            if not keys_ok or not all(_is_int(v) and 1 <= v <= MAX_COUNT for v in values):
                raise ValueError(
                    f"stream: steps must be None, an int in [1, {MAX_COUNT}] or a mapping target "
                    f"-> such an int, got {steps!r}"
                )

    @property
    def seed_u64(self) -> int:
        """The seed reduced modulo 2**64 (what the portable RNG uses)."""
        return int(self.seed) & MASK64


@dataclass(frozen=True)
class TargetDecoding:
    """The resolved decoding of one target."""

    name: str  # model key, e.g. "tok_gaze"
    modality_index: int  # the value of target_modality / input_modality
    num_tokens: int
    vocab_size: int
    decoder_stage: str | None  # tokenizer decoder turning the ids into data, if exported
    steps: int
    scheme: str
    schedule: str
    temperature: float
    temperature_schedule: str
    guidance_scale: float
    top_p: float
    top_k: float


@dataclass(frozen=True)
class ResolvedDecoding:
    """Everything a stream decodes with."""

    mode: str
    targets: tuple[TargetDecoding, ...]
    condition: tuple[str, ...]  # modalities emptied in the unconditional pass
    grow_conditioning: bool
    reuse_condition: bool = False  # encode the inputs once per window (joint / single_pass)


def _target_name(manifest: Manifest, name: str) -> str:
    try:
        entry = manifest.modality(name)
    except ValueError:
        entry = None
    targets = manifest.backbone.decoder_targets
    if entry is None or entry.name not in targets:
        shorts = [manifest.modality(t).short for t in targets]
        raise ValueError(
            f"stream: target {name!r} is not one this bundle decodes; choose among {shorts} "
            f"(or {list(targets)})"
        )
    return entry.name


def resolve_decoding(manifest: Manifest, options: StreamOptions) -> ResolvedDecoding:
    """The per-target settings of a stream: the manifest's defaults with the overrides applied."""
    if manifest.backbone is None or manifest.decoding is None:
        raise ValueError("stream: the bundle has no backbone stages; nothing can be decoded")
    names = [_target_name(manifest, t) for t in options.targets]
    if len(set(names)) != len(names):
        raise ValueError(f"stream: targets name a modality twice: {list(options.targets)}")
    steps = options.steps
    step_map: dict[str, int] = {}
    if isinstance(steps, Mapping):
        for k, v in steps.items():
            n = _target_name(manifest, k)
            if n not in names:
                raise ValueError(
                    f"stream: steps names {k!r}, which is not among the targets "
                    f"{list(options.targets)}"
                )
            step_map[n] = int(v)
    elif steps is not None:
        step_map = {n: int(steps) for n in names}
    out = []
    for n in names:
        d = manifest.decoding.targets[n]
        m = manifest.modality(n)
        out.append(
            TargetDecoding(
                name=n,
                modality_index=m.index,
                num_tokens=m.num_tokens,
                vocab_size=m.vocab_size,
                decoder_stage=m.decoder_stage,
                steps=step_map.get(n, d.steps),
                scheme=d.scheme,
                schedule=d.schedule,
                temperature=float(
                    d.temperature if options.temperature is None else options.temperature
                ),
                temperature_schedule=d.temperature_schedule,
                guidance_scale=float(
                    d.guidance_scale if options.guidance_scale is None else options.guidance_scale
                ),
                top_p=float(d.top_p if options.top_p is None else options.top_p),
                top_k=float(d.top_k),
            )
        )
    mode = options.mode or manifest.decoding.targets[names[0]].mode
    if options.reuse_condition and mode == "official":
        raise ValueError(
            "stream: reuse_condition=True changes the decoding, so it is only offered in the fast "
            "modes; pass mode='joint' or mode='single_pass' (official mode is the paper's recipe)"
        )
    return ResolvedDecoding(
        mode,
        tuple(out),
        tuple(manifest.decoding.condition),
        manifest.decoding.grow_conditioning,
        bool(options.reuse_condition),
    )
