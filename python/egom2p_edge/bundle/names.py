"""Every name of the bundle contract, defined once: files, stages, tensors, dynamic axes.

The C++ runtime mirrors these strings in a header; a test compares the two sets
(``all_names()``). Each tensor is documented here: dtype, shape (symbols are explained in
``SHAPE_SYMBOLS``) and meaning. The manifest (``bundle.json``) holds the concrete shapes of one
bundle, with the dynamic axes named by the ``DIM_*`` strings below.
"""

from __future__ import annotations

from dataclasses import dataclass

# ----- the bundle folder -------------------------------------------------------------------------

BUNDLE_MAGIC = "egom2p-edge-bundle"  # bundle.json "magic": checked before anything else
FORMAT_VERSION = 1  # bundle.json "format_version": a reader refuses a newer one
MANIFEST_FILE = "bundle.json"
GOLDENS_FILE = "goldens.safetensors"  # golden tensors keyed "<stage>/<tensor>"
ONNX_SUFFIX = ".onnx"  # each stage is "<stage>.onnx"
# Reduced-precision bundles only (bundle.json "validation.file"): windows with ground truth and
# the fp32 reference's results on them, keyed "<group>/<tensor>" (egom2p_edge.export docs them).
VALIDATION_FILE = "validation.safetensors"

# ----- stages (exported only when their component is given) --------------------------------------

VIDEO_ENCODER = "video_encoder"
VIDEO_DECODER = "video_decoder"
CAM_ENCODER = "cam_encoder"
CAM_DECODER = "cam_decoder"
GAZE_ENCODER = "gaze_encoder"
GAZE_DECODER = "gaze_decoder"
BACKBONE_ENCODER = "backbone_encoder"
BACKBONE_DECODER = "backbone_decoder"

STAGES: tuple[str, ...] = (
    VIDEO_ENCODER,
    VIDEO_DECODER,
    CAM_ENCODER,
    CAM_DECODER,
    GAZE_ENCODER,
    GAZE_DECODER,
    BACKBONE_ENCODER,
    BACKBONE_DECODER,
)

# ----- dynamic axes ------------------------------------------------------------------------------

DIM_BATCH = "batch"  # B: windows (tokenizers) or CFG passes (backbone: 2 = cond + uncond)
DIM_INPUT_TOKENS = "input_tokens"  # N: encoder slots (context length); >= 1, padding masked
DIM_TARGET_TOKENS = "target_tokens"  # M: decoder queries; >= 1

DIMS: tuple[str, ...] = (DIM_BATCH, DIM_INPUT_TOKENS, DIM_TARGET_TOKENS)

# Values of a padding slot (input_valid / context_valid False). The graphs mask padding, so any
# in-range or out-of-range value works; these are the ones the goldens and the reference use.
PAD_ID = 0
PAD_MODALITY = -1
PAD_POSITION = -1

# ----- tensors -----------------------------------------------------------------------------------

FRAMES_UINT8 = "frames_uint8"
VIDEO_IDS = "video_ids"
CAM_9D_NORM = "cam_9d_norm"
CAM_IDS = "cam_ids"
CAM_9D = "cam_9d"
T_WINDOW_CAMERA = "T_window_camera"
GAZE_INPUT = "gaze_input"
GAZE_IDS = "gaze_ids"
GAZE_XY_NORM = "gaze_xy_norm"
INPUT_IDS = "input_ids"
INPUT_MODALITY = "input_modality"
INPUT_POSITIONS = "input_positions"
INPUT_VALID = "input_valid"
CONTEXT = "context"
CONTEXT_VALID = "context_valid"
TARGET_MODALITY = "target_modality"
TARGET_POSITIONS = "target_positions"
LOGITS = "logits"

# How verification compares an output with its golden: "ids" exactly; "float" within the
# preset's tolerance (and, for logits, identical argmax over the last axis); "frames" (uint8
# images) within the preset's level tolerance.
COMPARE_IDS = "ids"
COMPARE_FLOAT = "float"
COMPARE_LOGITS = "logits"
COMPARE_FRAMES = "frames"
COMPARE_KINDS: tuple[str, ...] = (COMPARE_IDS, COMPARE_FLOAT, COMPARE_LOGITS, COMPARE_FRAMES)

SHAPE_SYMBOLS = {
    "B": f"dynamic axis '{DIM_BATCH}'",
    "N": f"dynamic axis '{DIM_INPUT_TOKENS}'",
    "M": f"dynamic axis '{DIM_TARGET_TOKENS}'",
    "F": "video frames per window (16 = 2 s at 8 fps), static",
    "S": "video side in pixels (square, centre-cropped and resized), static",
    "t,h,w": "video token grid of one window, static (16 frames at 256 -> 5, 32, 32)",
    "T": "trajectory samples per window (60 = 2 s at 30 Hz), static",
    "K": "trajectory tokens per window (30), static",
    "D": "backbone width, static",
    "V": "largest vocabulary among the gaze/camera targets the decoder serves, static",
}


@dataclass(frozen=True)
class TensorDoc:
    """One tensor of the contract: dtype, shape template (``SHAPE_SYMBOLS``), compare, meaning."""

    name: str
    dtype: str  # "float32", "int64", "uint8" or "bool"
    shape: tuple[str, ...]
    doc: str
    compare: str = COMPARE_FLOAT  # how an output is checked against its golden (outputs only)


def _t(name: str, dtype: str, shape: str, doc: str, compare: str = COMPARE_FLOAT) -> TensorDoc:
    return TensorDoc(name, dtype, tuple(shape.split()), doc, compare)


# Inputs and outputs of each stage, in graph order.
STAGE_TENSORS: dict[str, tuple[tuple[TensorDoc, ...], tuple[TensorDoc, ...]]] = {
    VIDEO_ENCODER: (
        (_t(FRAMES_UINT8, "uint8", "1 F S S 3",
            "RGB frames of one window, already centre-cropped and resized to S x S; the "
            "official time padding (last frame repeated to 1 + 4k frames) and x/255*2-1 run "
            "inside the graph"),),
        (_t(VIDEO_IDS, "int64", "1 t h w", "video token ids, row-major (t, h, w)", COMPARE_IDS),),
    ),
    VIDEO_DECODER: (
        (_t(VIDEO_IDS, "int64", "1 t h w", "video token ids"),),
        (_t(FRAMES_UINT8, "uint8", "1 F S S 3",
            "decoded RGB frames (the padding frame dropped), round((x+1)/2*255) clamped",
            COMPARE_FRAMES),),
    ),
    CAM_ENCODER: (
        (_t(CAM_9D_NORM, "float32", "B T 9",
            "camera poses of one window, canonical to its first frame, 9-D [R[:,0], R[:,1], t], "
            "standardised with CAM_MEAN/CAM_STD (egom2p_edge.models.vqvae.preprocess)"),),
        (_t(CAM_IDS, "int64", "B K", "camera token ids", COMPARE_IDS),),
    ),
    CAM_DECODER: (
        (_t(CAM_IDS, "int64", "B K", "camera token ids"),),
        (
            _t(CAM_9D, "float32", "B T 9",
               "decoded canonical 9-D poses, denormalised with the official float32 formula"),
            _t(T_WINDOW_CAMERA, "float32", "B T 4 4",
               "camera-to-window poses (relative to the window's first frame): Gram-Schmidt "
               "rotation, translation in metres"),
        ),
    ),
    GAZE_ENCODER: (
        (_t(GAZE_INPUT, "float32", "B T 3",
            "gaze (x, y) in [-1, 1] over the square crop and validity (1 valid, 0 invalid; "
            "invalid samples hold x = y = -1)"),),
        (_t(GAZE_IDS, "int64", "B K", "gaze token ids", COMPARE_IDS),),
    ),
    GAZE_DECODER: (
        (_t(GAZE_IDS, "int64", "B K", "gaze token ids"),),
        (_t(GAZE_XY_NORM, "float32", "B T 2",
            "decoded gaze in [0, 1] crop coordinates (x right, y down), not clamped"),),
    ),
    BACKBONE_ENCODER: (
        (
            _t(INPUT_IDS, "int64", "B N", "token id of each encoder slot (any value in padding)"),
            _t(INPUT_MODALITY, "int64", "B N",
               "modality index of each slot: position in the manifest's modality table"),
            _t(INPUT_POSITIONS, "int64", "B N",
               "token position inside its modality's flattened layout"),
            _t(INPUT_VALID, "bool", "B N",
               "False for padding slots; an empty condition is one slot, all False"),
        ),
        (_t(CONTEXT, "float32", "B N D",
            "decoder_proj_context(encoder output) + (pos + mod) embedding: what cross-attention "
            "reads; padding slots hold finite values that must be masked"),),
    ),
    BACKBONE_DECODER: (
        (
            _t(CONTEXT, "float32", "B N D", "backbone_encoder output"),
            _t(CONTEXT_VALID, "bool", "B N", "the encoder's input_valid"),
            _t(TARGET_MODALITY, "int64", "B M",
               "modality index of each query (gaze/camera modalities of the table)"),
            _t(TARGET_POSITIONS, "int64", "B M", "token position of each query"),
        ),
        (_t(LOGITS, "float32", "B M V",
            "logits of each query through its own modality's tied head; entries past that "
            "modality's vocabulary are -inf. Queries attend only to queries of their own "
            "modality and to valid context; with no valid context the cross-attention adds "
            "exactly 0", COMPARE_LOGITS),),
    ),
}  # fmt: skip


def stage_file(stage: str) -> str:
    """File name of a stage's ONNX graph inside the bundle."""
    if stage not in STAGE_TENSORS:
        raise ValueError(f"unknown stage {stage!r}; stages are {list(STAGES)}")
    return stage + ONNX_SUFFIX


def golden_key(stage: str, tensor: str) -> str:
    """Key of a golden tensor in ``goldens.safetensors``: ``<stage>/<tensor>``."""
    return f"{stage}/{tensor}"


def split_golden_key(key: str) -> tuple[str, str]:
    """Inverse of ``golden_key``; ValueError for a key without exactly one ``/``."""
    parts = key.split("/")
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"golden key {key!r} is not '<stage>/<tensor>'")
    return parts[0], parts[1]


def tensor_doc(stage: str, tensor: str) -> TensorDoc:
    """The documentation of one input or output of a stage."""
    inputs, outputs = STAGE_TENSORS[stage]
    for doc in inputs + outputs:
        if doc.name == tensor:
            return doc
    raise ValueError(f"stage {stage!r} has no tensor {tensor!r}")


def all_names() -> dict[str, frozenset[str]]:
    """The name sets the C++ header mirrors: magic, files, stages, tensors, dims, compare kinds."""
    tensors = {d.name for ins, outs in STAGE_TENSORS.values() for d in ins + outs}
    return {
        "magic": frozenset({BUNDLE_MAGIC}),
        "files": frozenset({MANIFEST_FILE, GOLDENS_FILE}),
        "stages": frozenset(STAGES),
        "tensors": frozenset(tensors),
        "dims": frozenset(DIMS),
        "compare": frozenset(COMPARE_KINDS),
    }
