"""Parallel decoding with the backbone: schedules, sampling, ROAR / MaskGIT with guidance, modes."""

from egom2p_edge.models.generation.decode import (
    DecodingStep,
    ForcedDecoding,
    StepRecord,
    TargetStep,
    TokenState,
    run_schedule,
)
from egom2p_edge.models.generation.generate import (
    DEFAULT_STEPS,
    MODES,
    GenerationResult,
    build_schedule,
    generate,
)
from egom2p_edge.models.generation.sampling import choose_tokens, top_k_filter, top_p_filter
from egom2p_edge.models.generation.torch_rng import TorchRng
from egom2p_edge.schedules import (
    cosine_token_schedule,
    linear_token_schedule,
    temperature_schedule,
    token_schedule,
)

__all__ = [
    "DEFAULT_STEPS",
    "MODES",
    "DecodingStep",
    "ForcedDecoding",
    "GenerationResult",
    "StepRecord",
    "TargetStep",
    "TokenState",
    "TorchRng",
    "build_schedule",
    "choose_tokens",
    "cosine_token_schedule",
    "generate",
    "linear_token_schedule",
    "run_schedule",
    "temperature_schedule",
    "token_schedule",
    "top_k_filter",
    "top_p_filter",
]
