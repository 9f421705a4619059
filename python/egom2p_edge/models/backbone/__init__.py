"""The EgoM2P backbone: config, presets, blocks, embeddings, the model, slots, training forward."""

from egom2p_edge.models.backbone.config import (
    PRESETS,
    BackboneConfig,
    ModalitySpec,
    backbone_preset,
    make_modalities,
    swiglu_hidden,
)
from egom2p_edge.models.backbone.model import EgoM2P, EncoderOutputs
from egom2p_edge.models.backbone.slots import Slots, gather_slots
from egom2p_edge.models.backbone.training_forward import (
    ModalityBatch,
    TargetRows,
    TrainOutputs,
    forward_train,
    modality_loss,
)

__all__ = [
    "PRESETS",
    "BackboneConfig",
    "EgoM2P",
    "EncoderOutputs",
    "ModalityBatch",
    "ModalitySpec",
    "Slots",
    "TargetRows",
    "TrainOutputs",
    "backbone_preset",
    "forward_train",
    "gather_slots",
    "make_modalities",
    "modality_loss",
    "swiglu_hidden",
]
