"""Import of the released Cosmos tokenizer files ``encoder.jit`` / ``decoder.jit`` into our modules.

The released files are TorchScript archives of two ``nn.Sequential`` wrappers: (encoder,
quant_conv, quantizer) and (inv_quant, post_quant_conv, decoder). ``torch.jit.load`` is used only
to deserialise them and read their tensors; their code is never run. The config is inferred from
the tensor shapes, the FSQ levels from the quantizer buffer, and the number of spatial
down-samplers from which resampling modules the trace actually calls.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import Any

import torch

from egom2p_edge.models.video.config import VideoTokenizerConfig
from egom2p_edge.models.video.tokenizer import VideoTokenizer

log = logging.getLogger(__name__)

KIND = "video_tokenizer"
ENCODER_FILE = "encoder.jit"
DECODER_FILE = "decoder.jit"

# Non-persistent buffers a TorchScript export carries (constants our modules rebuild).
_IGNORED_BUFFERS = re.compile(
    r"^(encoder\.patcher3d\.|decoder\.unpatcher3d\.|quantizer\.|inv_quant\.quantizer\.)"
    r"(wavelets|_arange|patch_size_buffer|_levels|_basis|implicit_codebook)$"
)
# Prefixes of the parameters each file contributes to the full model.
_ENCODER_PREFIXES = ("encoder.", "quant_conv.")
_DECODER_PREFIXES = ("decoder.", "post_quant_conv.")

LICENCE_NOTE = (
    "Weights of the released Cosmos tokenizer (nvidia/Cosmos-0.1-Tokenizer-DV4x8x8) come with "
    "NVIDIA's licence terms, separate from this SDK's code licence; check them before use."
)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _load_jit(path: Path) -> torch.jit.ScriptModule:
    try:
        return torch.jit.load(str(path), map_location="cpu")
    except (RuntimeError, ValueError, OSError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise ValueError(
            f"cannot read {path} as a TorchScript archive ({first}); expected the released "
            f"Cosmos tokenizer file (e.g. from nvidia/Cosmos-0.1-Tokenizer-DV4x8x8)"
        ) from None


def _active_resamplers(module: torch.jit.ScriptModule, kind: str) -> int | None:
    """How many ``downsample``/``upsample`` modules the traced graph calls with an input.

    A trace records a resampler that returns its input unchanged as ``forward(self) -> None``.
    None when the archive does not expose this (e.g. a scripted, not traced, export).
    """
    count = 0
    found = False
    for name, sub in module.named_modules():
        if name.rsplit(".", 1)[-1] != kind:
            continue
        found = True
        try:
            args = sub.forward.schema.arguments
        except (AttributeError, RuntimeError):
            return None
        count += len(args) > 1
    return count if found else None


def _get(state: dict[str, torch.Tensor], key: str, file: str) -> torch.Tensor:
    if key not in state:
        raise ValueError(
            f"{file}: tensor {key!r} is missing; this is not a Cosmos DV tokenizer export "
            f"(expected the encoder_jit()/decoder_jit() wrappers)"
        )
    return state[key]


def _count(state: dict[str, torch.Tensor], pattern: str) -> int:
    n = 0
    while any(k.startswith(pattern.format(n)) for k in state):
        n += 1
    return n


def infer_config(
    enc: dict[str, torch.Tensor],
    dec: dict[str, torch.Tensor],
    spatial_downsamplers: int | None = None,
) -> VideoTokenizerConfig:
    """The config whose modules have these tensors (encoder and decoder state of the jit pair)."""
    conv_in = _get(enc, "encoder.conv_in.0.conv3d.weight", ENCODER_FILE)
    channels, in_total = int(conv_in.shape[0]), int(conv_in.shape[1])
    if "encoder.patcher3d.patch_size_buffer" in enc:
        patch = int(enc["encoder.patcher3d.patch_size_buffer"].reshape(-1)[0])
    else:  # RGB input: in_total = 3 * patch**3
        patch = round((in_total / 3) ** (1 / 3))
    in_channels = in_total // patch**3
    num_levels = _count(enc, "encoder.down.{}.")
    if num_levels == 0:
        raise ValueError(f"{ENCODER_FILE}: no encoder.down.* levels found")
    mult = []
    for i in range(num_levels):
        w = _get(enc, f"encoder.down.{i}.block.0.conv1.0.conv3d.weight", ENCODER_FILE)
        if w.shape[0] % channels:
            raise ValueError(
                f"{ENCODER_FILE}: encoder.down.{i} width {w.shape[0]} is not a multiple of the "
                f"base width {channels}"
            )
        mult.append(int(w.shape[0]) // channels)
    num_res_blocks = _count(enc, "encoder.down.0.block.{}.")
    z_channels = int(_get(enc, "encoder.conv_out.1.conv3d.weight", ENCODER_FILE).shape[0])
    embedding_dim = int(_get(enc, "quant_conv.conv3d.weight", ENCODER_FILE).shape[0])
    out_total = int(_get(dec, "decoder.conv_out.1.conv3d.weight", DECODER_FILE).shape[0])
    levels = _levels(enc, dec, embedding_dim)
    n_down = 1 if spatial_downsamplers is None else spatial_downsamplers
    return VideoTokenizerConfig(
        in_channels=in_channels,
        out_channels=out_total // patch**3,
        channels=channels,
        channels_mult=tuple(mult),
        num_res_blocks=num_res_blocks,
        z_channels=z_channels,
        embedding_dim=embedding_dim,
        levels=levels,
        patch_size=patch,
        spatial_compression=patch * 2**n_down,
        temporal_compression=patch,
    )


def _levels(enc: dict, dec: dict, embedding_dim: int) -> tuple[int, ...]:
    found = {}
    for file, state, key in (
        (ENCODER_FILE, enc, "quantizer._levels"),
        (DECODER_FILE, dec, "inv_quant.quantizer._levels"),
    ):
        if key in state:
            found[file] = tuple(int(v) for v in state[key].reshape(-1).tolist())
    if len(set(found.values())) > 1:
        raise ValueError(f"the FSQ levels of the two files differ: {found}")
    if found:
        return next(iter(found.values()))
    if embedding_dim == 6:  # the released DV tokenizers
        return (8, 8, 8, 5, 5, 5)
    raise ValueError(
        f"{ENCODER_FILE}: no quantizer._levels buffer and embedding_dim {embedding_dim} != 6; "
        f"cannot tell the FSQ levels"
    )


def _check_against_model(config: VideoTokenizerConfig, state: dict, origin: dict) -> None:
    """Every key and shape of our model must be present, and nothing else."""
    with torch.device("meta"):
        expected = VideoTokenizer(config).state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [
        f"{k} in {origin[k]}: expected {tuple(expected[k].shape)}, found {tuple(state[k].shape)}"
        for k in expected
        if k in state and tuple(expected[k].shape) != tuple(state[k].shape)
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing tensors, e.g. {missing[:3]}")
    if unexpected:
        problems.append(
            f"{len(unexpected)} unexpected tensors, e.g. "
            f"{[f'{k} in {origin[k]}' for k in unexpected[:3]]}"
        )
    if wrong:
        problems.append(f"{len(wrong)} tensors with mismatched shapes, e.g. {wrong[:3]}")
    if problems:
        raise ValueError(
            f"the jit pair does not match one Cosmos DV tokenizer of the inferred config "
            f"{config.to_dict()}: " + "; ".join(problems) + ". Are encoder.jit and decoder.jit "
            "from the same release?"
        )


def import_released_jit(
    folder: str | Path,
) -> tuple[str, dict[str, Any], dict[str, torch.Tensor], dict[str, Any]]:
    """Read ``folder/encoder.jit`` and ``folder/decoder.jit``.

    Returns ``("video_tokenizer", config dict, state_dict (float32, our key order), provenance)``.
    FileNotFoundError names a missing file; ValueError names mismatched tensors.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{folder} is not a folder; expected one holding {ENCODER_FILE} and {DECODER_FILE}"
        )
    paths = {name: folder / name for name in (ENCODER_FILE, DECODER_FILE)}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"missing {', '.join(missing)}: the released Cosmos tokenizer is a pair "
            f"{ENCODER_FILE} + {DECODER_FILE} (nvidia/Cosmos-0.1-Tokenizer-DV4x8x8); put both in "
            f"{folder}"
        )
    modules = {name: _load_jit(p) for name, p in paths.items()}
    raw = {name: dict(m.state_dict()) for name, m in modules.items()}
    enc, dec = raw[ENCODER_FILE], raw[DECODER_FILE]

    n_down = _active_resamplers(modules[ENCODER_FILE], "downsample")
    n_up = _active_resamplers(modules[DECODER_FILE], "upsample")
    if n_down is not None and n_up is not None and n_down != n_up:
        raise ValueError(
            f"{ENCODER_FILE} down-samples {n_down} times but {DECODER_FILE} up-samples {n_up} "
            f"times; the files are not one tokenizer"
        )
    if n_down is None:
        n_down = n_up
    if n_down is None:
        log.warning("cannot read the resampling stages from the graphs; assuming 8x8 spatial")
    config = infer_config(enc, dec, n_down)

    state: dict[str, torch.Tensor] = {}
    origin: dict[str, str] = {}
    dtypes: set[str] = set()
    for file, tensors, prefixes in (
        (ENCODER_FILE, enc, _ENCODER_PREFIXES),
        (DECODER_FILE, dec, _DECODER_PREFIXES),
    ):
        for key, t in tensors.items():
            if _IGNORED_BUFFERS.match(key):
                continue
            if not key.startswith(prefixes):
                state[key], origin[key] = t, file  # reported as unexpected below
                continue
            dtypes.add(str(t.dtype).replace("torch.", ""))
            state[key] = t.detach().to(torch.float32).clone()
            origin[key] = file
    _check_against_model(config, state, origin)

    with torch.device("meta"):
        order = list(VideoTokenizer(config).state_dict())
    state = {k: state[k] for k in order}
    provenance = {
        "source": "released Cosmos tokenizer TorchScript pair (encoder.jit, decoder.jit)",
        "importer": __name__,
        "files": {
            name: {"path": str(p.resolve()), "sha256": _sha256(p), "bytes": p.stat().st_size}
            for name, p in paths.items()
        },
        "source_dtypes": sorted(dtypes),
        "num_parameters": int(sum(t.numel() for t in state.values())),
        "licence": LICENCE_NOTE,
    }
    log.debug("imported %s: %d tensors, config %s", folder, len(state), config.to_dict())
    return KIND, config.to_dict(), state, provenance


def load_released_jit(folder: str | Path):
    """The released jit pair as a ready ``VideoTokenizer`` in eval mode (float32, CPU)."""
    _, config, state, _ = import_released_jit(folder)
    model = VideoTokenizer(VideoTokenizerConfig.from_dict(config))
    model.load_state_dict(state, strict=True)
    return model.eval()


__all__ = ["KIND", "import_released_jit", "infer_config", "load_released_jit"]
