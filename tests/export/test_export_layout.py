"""The bundle plan of the official-size model set (configs only, models on the meta device)."""

from __future__ import annotations

from pathlib import Path

import pytest

from egom2p_edge.bundle import names

torch = pytest.importorskip("torch")


def _component(role: str, model) -> object:
    from egom2p_edge.export.components import Component

    return Component(role, model, Path(role), "test", {}, "untrained")


def test_ego_b_plan_is_the_official_layout() -> None:
    from egom2p_edge.export.layout import plan_bundle
    from egom2p_edge.models.backbone import EgoM2P, backbone_preset
    from egom2p_edge.models.video import VideoTokenizer
    from egom2p_edge.models.video import preset as video_preset
    from egom2p_edge.models.vqvae import VQVAE
    from egom2p_edge.models.vqvae import preset as vq_preset

    with torch.device("meta"):
        comps = {
            "backbone": _component("backbone", EgoM2P(backbone_preset("ego-b"))),
            "cam_tokenizer": _component(
                "cam_tokenizer", VQVAE(vq_preset("official", "cam"), seed=None)
            ),
            "gaze_tokenizer": _component(
                "gaze_tokenizer", VQVAE(vq_preset("official", "gaze"), seed=None)
            ),
            "video_tokenizer": _component(
                "video_tokenizer", VideoTokenizer(video_preset("dv4x8x8"))
            ),
        }
    plan = plan_bundle(comps)
    assert list(plan.stages) == list(names.STAGES)
    assert plan.video.size == 256 and plan.video.token_grid == (5, 32, 32)
    assert plan.video.vocab_size == 64000 and plan.video.time_padding == (0, 1)
    assert (plan.trajectory.samples, plan.trajectory.rate_hz, plan.trajectory.tokens) == (
        60,
        30,
        30,
    )
    assert plan.backbone.dim == 768 and plan.backbone.decoder_vocab_size == 256
    assert [m.index for m in plan.modalities] == [0, 1, 2, 3]
    assert [m.name for m in plan.modalities] == ["tok_cam", "tok_depth", "tok_gaze", "tok_rgb"]


def test_tokenizers_alone_get_their_own_table() -> None:
    from egom2p_edge.export.layout import plan_bundle
    from egom2p_edge.models.vqvae import VQVAE
    from egom2p_edge.models.vqvae import preset as vq_preset

    with torch.device("meta"):
        comps = {
            "gaze_tokenizer": _component(
                "gaze_tokenizer", VQVAE(vq_preset("tiny", "gaze"), seed=None)
            )
        }
    plan = plan_bundle(comps)
    assert list(plan.stages) == [names.GAZE_ENCODER, names.GAZE_DECODER]
    assert [(m.index, m.name, m.vocab_size) for m in plan.modalities] == [(0, "tok_gaze", 256)]
    assert plan.modalities[0].encoder_stage == names.GAZE_ENCODER
    assert not plan.modalities[0].backbone_input and plan.backbone is None and plan.video is None


def test_camera_and_gaze_windows_must_agree() -> None:
    from egom2p_edge.export.layout import MisfitError, plan_bundle
    from egom2p_edge.models.vqvae import VQVAE
    from egom2p_edge.models.vqvae import preset as vq_preset

    with torch.device("meta"):
        comps = {
            "cam_tokenizer": _component(
                "cam_tokenizer", VQVAE(vq_preset("tiny", "cam"), seed=None)
            ),
            "gaze_tokenizer": _component(
                "gaze_tokenizer", VQVAE(vq_preset("tiny", "gaze", num_frames=40), seed=None)
            ),
        }
    with pytest.raises(MisfitError, match="60 samples to 30 tokens but the gaze tokenizer"):
        plan_bundle(comps)
    with pytest.raises(ValueError, match="nothing to export"):
        plan_bundle({})
