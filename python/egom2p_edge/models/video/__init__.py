"""The Cosmos-DV4x8x8-compatible causal video tokenizer (our implementation of the published
architecture): Haar patching, factorised causal 3-D convolutions, middle-block attention, FSQ."""

from egom2p_edge.models.video.config import PRESETS, VideoTokenizerConfig, preset
from egom2p_edge.models.video.fsq import FSQ
from egom2p_edge.models.video.io import load_video_tokenizer, save_video_tokenizer
from egom2p_edge.models.video.preprocess import (
    CropRegion,
    crop_frames,
    frames_to_tensor,
    pad_frames,
    tensor_to_frames,
)
from egom2p_edge.models.video.tokenizer import EncodeStages, VideoTokenizer

__all__ = [
    "PRESETS",
    "CropRegion",
    "EncodeStages",
    "FSQ",
    "VideoTokenizer",
    "VideoTokenizerConfig",
    "crop_frames",
    "frames_to_tensor",
    "load_video_tokenizer",
    "pad_frames",
    "preset",
    "save_video_tokenizer",
    "tensor_to_frames",
]
