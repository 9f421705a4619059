"""Video tokenizer forward: token grid shapes, causality, gradients and bad inputs (tiny sizes)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from egom2p_edge.models.video.config import VideoTokenizerConfig, preset
from egom2p_edge.models.video.preprocess import pad_frames
from egom2p_edge.models.video.tokenizer import VideoTokenizer


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return VideoTokenizer(preset("tiny128")).eval()


@pytest.fixture(scope="module")
def micro():
    torch.manual_seed(1)
    cfg = VideoTokenizerConfig(channels=4, channels_mult=(1, 2), num_res_blocks=1)
    return VideoTokenizer(cfg).eval()


def _frames(T, H, W, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (1, T, H, W, 3), dtype=np.uint8)


def test_sixteen_frames_at_128_give_5x16x16_ids(tiny):
    ids = tiny.encode(_frames(16, 128, 128))
    assert ids.shape == (1, 5, 16, 16) and ids.dtype == torch.int64
    assert 0 <= int(ids.min()) and int(ids.max()) < 64000
    frames = tiny.decode(ids)
    assert frames.shape == (1, 17, 128, 128, 3) and frames.dtype == torch.uint8
    _, crop = pad_frames(torch.from_numpy(_frames(16, 128, 128)))
    assert tiny.decode(ids, crop).shape == (1, 16, 128, 128, 3)


def test_windowed_encode_of_32_frames_gives_10_latent_frames(micro):
    # Spec 5.3: 32 frames at 8 fps -> windows of 17 + 15 (padded to 17) -> 10 latent frames.
    frames = _frames(32, 16, 16)
    ids = micro.encode(frames, temporal_window=17)
    assert ids.shape == (1, 10, 2, 2)
    assert torch.equal(ids[:, :5], micro.encode(frames[:, :17]))
    assert torch.equal(ids[:, 5:], micro.encode(frames[:, 17:]))
    assert micro.encode(frames).shape == (1, 9, 2, 2)  # whole clip: 32 -> 33 frames


def test_unaligned_input_is_padded_and_cropped_back(micro):
    frames = _frames(6, 40, 24)
    ids = micro.encode(frames)
    assert ids.shape == (1, 3, 6, 4)  # padded to 9 x 48 x 32
    _, crop = pad_frames(torch.from_numpy(frames))
    assert micro.decode(ids, crop).shape == (1, 6, 40, 24, 3)


def test_float_paths_shapes(micro):
    x = torch.rand(2, 3, 9, 32, 16) * 2 - 1
    stages = micro.encode_stages(x)
    assert stages.encoder_output.shape == (2, 16, 3, 4, 2)
    assert stages.latents.shape == (2, 6, 3, 4, 2)
    assert stages.codes.shape == (2, 6, 3, 4, 2)
    assert torch.equal(micro.encode_tensor(x), stages.ids)
    video = micro.decode_tensor(stages.ids)
    assert video.shape == (2, 3, 9, 32, 16) and video.dtype == torch.float32
    assert torch.equal(micro.quantizer.ids_to_codes(stages.ids), stages.codes)


def test_tokens_are_causal_in_time(micro):
    # Latent frame j sees input frames <= 4j: changing frames 5.. leaves latents 0 and 1 alone.
    x = torch.rand(1, 3, 17, 16, 16) * 2 - 1
    y = x.clone()
    y[:, :, 5:] = torch.rand(1, 3, 12, 16, 16) * 2 - 1
    with torch.no_grad():
        a, b = micro.encode_stages(x), micro.encode_stages(y)
    assert torch.equal(a.latents[:, :, :2], b.latents[:, :, :2])
    assert not torch.equal(a.latents[:, :, 2:], b.latents[:, :, 2:])
    # The decoder is causal too: output frame 4j depends on latents <= j.
    ids = a.ids.clone()
    ids[:, 2:] = (ids[:, 2:] + 1234) % 64000
    with torch.no_grad():
        va, vb = micro.decode_tensor(a.ids), micro.decode_tensor(ids)
    assert torch.equal(va[:, :, :5], vb[:, :, :5])


def test_gradients_reach_the_encoder_through_fsq(micro):
    model = VideoTokenizer(micro.config)
    x = torch.rand(1, 3, 5, 16, 16) * 2 - 1
    stages = model.encode_stages(x)
    recon = model.decode_codes(stages.codes)
    ((recon - x) ** 2).mean().backward()
    grad = model.encoder.conv_in[0].conv3d.weight.grad
    assert grad is not None and float(grad.abs().sum()) > 0


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (torch.zeros(1, 3, 16, 32, 32), r"\(T - 1\) % 4"),
        (torch.zeros(1, 3, 9, 36, 32), "multiples of 8"),
        (torch.zeros(1, 4, 9, 32, 32), r"\(B, 3, T, H, W\)"),
        (torch.zeros(3, 9, 32, 32), r"\(B, 3, T, H, W\)"),
        (torch.zeros(1, 3, 9, 32, 32, dtype=torch.int32), "float"),
    ],
)
def test_bad_video_tensors_are_rejected(micro, x, match):
    with pytest.raises(ValueError, match=match):
        micro.encode_tensor(x)


@pytest.mark.parametrize(
    ("ids", "match"),
    [
        (torch.full((1, 2, 2, 2), 64000), r"\[0, 64000\)"),
        (torch.full((1, 2, 2, 2), -1), r"\[0, 64000\)"),
        (torch.zeros(1, 2, 2, 2, dtype=torch.float32), "integer dtype"),
        (torch.zeros(2, 2, 2, dtype=torch.int64), r"\(B, t, h, w\)"),
    ],
)
def test_bad_ids_are_rejected(micro, ids, match):
    with pytest.raises(ValueError, match=match):
        micro.decode(ids)


def test_bad_frames_are_rejected(micro):
    with pytest.raises(ValueError, match="uint8"):
        micro.encode(np.zeros((1, 9, 16, 16, 3), np.float32))


def test_float_paths_export_to_onnx(micro, tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    import warnings

    from torch import nn

    class Encode(nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, x):
            return self.model.encode_tensor(x)

    class Decode(Encode):
        def forward(self, ids):
            return self.model.decode_tensor(ids)

    x = torch.rand(1, 3, 9, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    ids = micro.encode_tensor(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Encode(micro), (x,), str(tmp_path / "e.onnx"), dynamo=False)
        torch.onnx.export(Decode(micro), (ids,), str(tmp_path / "d.onnx"), dynamo=False)
    enc = onnxruntime.InferenceSession(str(tmp_path / "e.onnx"))
    dec = onnxruntime.InferenceSession(str(tmp_path / "d.onnx"))
    onnx_ids = enc.run(None, {enc.get_inputs()[0].name: x.numpy()})[0]
    assert np.array_equal(onnx_ids, ids.numpy())
    video = dec.run(None, {dec.get_inputs()[0].name: ids.numpy()})[0]
    with torch.no_grad():
        assert np.abs(video - micro.decode_tensor(ids).numpy()).max() < 1e-4
