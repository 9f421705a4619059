"""Behaviour of the exported graphs beyond the goldens: dynamic axes, masking, the contract's
invariants (ONNX Runtime with the bundle's session options against the PyTorch reference)."""

from __future__ import annotations

import numpy as np
import pytest

from egom2p_edge.bundle import load_bundle, names
from egom2p_edge.bundle.sessions import open_session

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny(tiny_bundle):
    return load_bundle(tiny_bundle.path, check_hashes=False)


@pytest.fixture(scope="module")
def backbone(tiny_checkpoints):
    from egom2p_edge.export.components import load_backbone

    return load_backbone(tiny_checkpoints["backbone"]).model


def _run(bundle, stage, **feeds):
    sess = open_session(bundle, stage)
    names_out = [o.name for o in sess.get_outputs()]
    return dict(zip(names_out, sess.run(None, feeds)))


def _decoder_feeds(rng, B, N, M, dim, valid, cam_index, gaze_index):
    modality = np.where(rng.random((B, M)) < 0.5, cam_index, gaze_index).astype(np.int64)
    return dict(
        context=rng.normal(0, 1, (B, N, dim)).astype(np.float32),
        context_valid=valid,
        target_modality=modality,
        target_positions=rng.integers(0, 30, (B, M)).astype(np.int64),
    )


def test_decoder_without_valid_context_ignores_the_context(tiny) -> None:
    m = tiny.manifest
    rng = np.random.default_rng(0)
    cam, gaze = m.modality("cam").index, m.modality("gaze").index
    feeds = _decoder_feeds(rng, 2, 5, 12, m.backbone.dim, np.zeros((2, 5), bool), cam, gaze)
    a = _run(tiny, names.BACKBONE_DECODER, **feeds)[names.LOGITS]
    feeds[names.CONTEXT] = rng.normal(0, 5, feeds[names.CONTEXT].shape).astype(np.float32)
    b = _run(tiny, names.BACKBONE_DECODER, **feeds)[names.LOGITS]
    np.testing.assert_array_equal(a, b)  # cross-attention adds exactly 0
    assert np.isfinite(a).all()


def test_decoder_attends_only_within_a_modality(tiny) -> None:
    m = tiny.manifest
    rng = np.random.default_rng(1)
    cam, gaze = m.modality("cam").index, m.modality("gaze").index
    valid = rng.random((2, 9)) > 0.3
    feeds = _decoder_feeds(rng, 2, 9, 20, m.backbone.dim, valid, cam, gaze)
    feeds[names.TARGET_MODALITY][:, :8] = cam
    feeds[names.TARGET_MODALITY][:, 8:] = gaze
    both = _run(tiny, names.BACKBONE_DECODER, **feeds)[names.LOGITS]
    only_cam = dict(
        feeds,
        target_modality=feeds[names.TARGET_MODALITY][:, :8],
        target_positions=feeds[names.TARGET_POSITIONS][:, :8],
    )
    alone = _run(tiny, names.BACKBONE_DECODER, **only_cam)[names.LOGITS]
    np.testing.assert_allclose(both[:, :8], alone, atol=1e-5, rtol=0)


def test_encoder_padding_does_not_leak_into_valid_slots(tiny) -> None:
    g = tiny.goldens()[names.BACKBONE_ENCODER]
    feeds = {
        k: g[k].copy()
        for k in (names.INPUT_IDS, names.INPUT_MODALITY, names.INPUT_POSITIONS, names.INPUT_VALID)
    }
    pad = ~feeds[names.INPUT_VALID]
    feeds[names.INPUT_IDS][pad] = 7
    feeds[names.INPUT_MODALITY][pad] = 2
    feeds[names.INPUT_POSITIONS][pad] = 3
    out = _run(tiny, names.BACKBONE_ENCODER, **feeds)[names.CONTEXT]
    valid = feeds[names.INPUT_VALID]
    np.testing.assert_allclose(out[valid], g[names.CONTEXT][valid], atol=1e-5, rtol=0)


@pytest.mark.parametrize("B,N,M", [(2, 1, 1), (2, 40, 30), (1, 301, 60)])
def test_backbone_graphs_follow_the_reference_on_other_sizes(tiny, backbone, B, N, M) -> None:
    m = tiny.manifest
    rng = np.random.default_rng(B * 1000 + N + M)
    cfg = backbone.config
    mod = rng.integers(0, len(cfg.modalities), (B, N)).astype(np.int64)
    pos = np.array([[rng.integers(0, cfg.modalities[i].num_tokens) for i in r] for r in mod])
    ids = np.array([[rng.integers(0, cfg.modalities[i].vocab_size) for i in r] for r in mod])
    valid = rng.random((B, N)) > 0.2
    valid[-1] = N > 1 and valid[-1]  # the last pass empty when N = 1 (unconditional start)
    enc = _run(
        tiny,
        names.BACKBONE_ENCODER,
        input_ids=ids,
        input_modality=mod,
        input_positions=pos.astype(np.int64),
        input_valid=valid,
    )[names.CONTEXT]
    t = {
        k: torch.from_numpy(v)
        for k, v in dict(ids=ids, pos=pos.astype(np.int64), mod=mod, valid=valid).items()
    }
    with torch.no_grad():
        ref_ctx = backbone.encode(t["ids"], t["pos"], t["mod"], t["valid"]).context.numpy()
    np.testing.assert_allclose(enc, ref_ctx, atol=1e-4, rtol=0)
    cam, gaze = m.modality("cam").index, m.modality("gaze").index
    feeds = _decoder_feeds(rng, B, N, M, m.backbone.dim, valid, cam, gaze)
    feeds[names.CONTEXT] = enc
    logits = _run(tiny, names.BACKBONE_DECODER, **feeds)[names.LOGITS]
    with torch.no_grad():
        ref = backbone.forward_decoder(
            torch.from_numpy(enc),
            torch.from_numpy(valid),
            torch.from_numpy(feeds[names.TARGET_POSITIONS]),
            torch.from_numpy(feeds[names.TARGET_MODALITY]),
            m.backbone.decoder_targets,
        ).numpy()
    np.testing.assert_allclose(logits, ref, atol=1e-4, rtol=0)
    assert (logits.argmax(-1) == ref.argmax(-1)).all()


def test_camera_decoder_gives_rigid_poses(tiny) -> None:
    ids = np.random.default_rng(2).integers(0, 256, (3, 30)).astype(np.int64)
    out = _run(tiny, names.CAM_DECODER, cam_ids=ids)
    T = out[names.T_WINDOW_CAMERA].astype(np.float64)
    R = T[..., :3, :3]
    np.testing.assert_allclose(
        R.transpose(0, 1, 3, 2) @ R, np.broadcast_to(np.eye(3), R.shape), atol=1e-5
    )
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-5)
    np.testing.assert_array_equal(T[..., 3, :], np.broadcast_to([0, 0, 0, 1.0], T[..., 3, :].shape))
    np.testing.assert_allclose(T[..., :3, 3], out[names.CAM_9D][..., 6:9], atol=0)


def test_video_encoder_scaling_is_the_reference_one() -> None:
    from egom2p_edge.export.stage_modules import VideoEncoderStage
    from egom2p_edge.models.video import VideoTokenizer, frames_to_tensor, preset

    with torch.random.fork_rng(devices=[]):
        stage = VideoEncoderStage(VideoTokenizer(preset("tiny128")), 16)
    values = torch.arange(256, dtype=torch.uint8).reshape(1, 1, 16, 16, 1).expand(1, 1, 16, 16, 3)
    ref = frames_to_tensor(values)[0, :, 0].permute(1, 2, 0)  # (16, 16, 3)
    assert torch.equal(stage.lut[values[0, 0].long()], ref)  # bit-identical scaling


def test_video_decoder_gives_16_uint8_frames(tiny) -> None:
    g = tiny.goldens()[names.VIDEO_ENCODER]
    out = _run(tiny, names.VIDEO_DECODER, video_ids=g[names.VIDEO_IDS])[names.FRAMES_UINT8]
    assert out.dtype == np.uint8 and out.shape == (1, 16, 128, 128, 3)
