"""The gaze/camera VQ-VAE model: config, shapes, layout, input checks, training, export."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from egom2p_edge.models.vqvae.blocks import Attention
from egom2p_edge.models.vqvae.config import PRESETS, VQVAEConfig, preset
from egom2p_edge.models.vqvae.io import load_vqvae, save_vqvae
from egom2p_edge.models.vqvae.losses import masked_mse_loss, mse_loss
from egom2p_edge.models.vqvae.model import VQVAE

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _gaze_batch(b: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(b, 60, 3, generator=g) * 2 - 1
    x[..., 2] = (torch.rand(b, 60, generator=g) > 0.2).float()
    return x


# ----- config -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(domain="depth"), "domain"),
        (dict(domain="cam", dim=64, heads=5), "heads"),
        (dict(domain="cam", temporal_compress=7), "temporal_compress"),
        (dict(domain="cam", ema_decay=1.0), "ema_decay"),
        (dict(domain="cam", depth=0), "depth"),
        (dict(domain="gaze", dead_code_threshold=-1.0), "dead_code_threshold"),
        (dict(domain="gaze", mlp_ratio=0.0), "mlp_ratio"),
    ],
)
def test_config_rejects_bad_values(kwargs, field):
    with pytest.raises(ValueError, match=field):
        VQVAEConfig(**kwargs)


def test_config_dict_round_trip_and_presets():
    cfg = preset("small", "gaze", latent_dim=16)
    assert VQVAEConfig.from_dict(cfg.to_dict()) == cfg
    assert (cfg.input_channels, cfg.conv_channels, cfg.out_channels) == (3, 2, 2)
    assert cfg.recon_loss == "mse_mask" and cfg.num_tokens == 30
    off = preset("official", "cam")
    assert (off.dim, off.depth, off.dec_depth, off.heads, off.head_dim, off.mlp_hidden) == (
        768, 12, 12, 12, 64, 3072,
    )  # fmt: skip
    assert set(PRESETS) >= {"official", "tiny"}
    with pytest.raises(ValueError, match="unknown fields"):
        VQVAEConfig.from_dict({"domain": "cam", "width": 3})
    with pytest.raises(ValueError, match="preset"):
        preset("huge", "cam")


# ----- building blocks --------------------------------------------------------------------------


def test_attention_matches_an_independent_reference():
    torch.manual_seed(0)
    attn = Attention(32, 4).eval()
    x = torch.randn(2, 7, 32)
    qkv = attn.qkv(x).reshape(2, 7, 3, 4, 8).permute(2, 0, 3, 1, 4)
    ref = torch.nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
    ref = attn.proj(ref.transpose(1, 2).reshape(2, 7, 32))
    torch.testing.assert_close(attn(x), ref, rtol=1e-5, atol=1e-6)


def test_decoder_output_unpacking_is_channel_major():
    # out_proj feature f = c * tc + pt goes to frame n * tc + pt, channel c.
    cfg = preset("tiny", "cam", temporal_compress=3)
    model = VQVAE(cfg).eval()
    with torch.no_grad():
        model.decoder.out_proj.weight.zero_()
        model.decoder.out_proj.bias.copy_(torch.arange(9 * 3, dtype=torch.float32))
        out = model.decode_tokens(torch.zeros(1, cfg.num_tokens, dtype=torch.long))
    assert out.shape == (1, 60, 9)
    for frame in (0, 1, 2, 31):
        pt = frame % 3
        np.testing.assert_array_equal(out[0, frame].numpy(), [c * 3 + pt for c in range(9)])


def test_gaze_encoder_ignores_invalid_frames():
    model = VQVAE(preset("tiny", "gaze")).eval()
    x = _gaze_batch(2)
    y = x.clone()
    invalid = y[..., 2] == 0
    y[..., :2][invalid] = 123.0  # whatever an invalid frame holds
    with torch.no_grad():
        assert torch.equal(model.encoder(x), model.encoder(y))
        y[0, 0, :2] += 0.5  # a change in a valid (or now-valid) frame does matter
        y[0, 0, 2] = 1.0
        assert not torch.equal(model.encoder(x), model.encoder(y))


# ----- model API --------------------------------------------------------------------------------


@pytest.mark.parametrize("domain", ["cam", "gaze"])
def test_shapes_and_paths_agree(domain):
    cfg = preset("tiny", domain)
    model = VQVAE(cfg).eval()
    x = _gaze_batch(3) if domain == "gaze" else torch.randn(3, 60, 9)
    with torch.no_grad():
        idx = model.encode(x)
        assert idx.shape == (3, 30) and idx.dtype == torch.int64
        assert int(idx.min()) >= 0 and int(idx.max()) < cfg.codebook_size
        rec = model.decode_tokens(idx)
        assert rec.shape == (3, 60, cfg.out_channels)
        out = model(x)
        assert torch.equal(out.indices, idx) and torch.equal(out.recon, rec)
        assert out.latents.shape == (3, cfg.latent_dim, 30)
        assert float(out.code_loss) == 0.0


def test_seeded_init_is_deterministic_and_leaves_global_rng_alone():
    cfg = preset("tiny", "cam")
    state = torch.random.get_rng_state()
    a, b, c = VQVAE(cfg, seed=3), VQVAE(cfg, seed=3), VQVAE(cfg, seed=4)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(a.state_dict()[k], v) for k, v in b.state_dict().items())
    assert not torch.equal(a.quant_proj.weight, c.quant_proj.weight)
    # Position embeddings are fixed sin-cos tables, frozen.
    pe = a.encoder.position_embeddings
    assert not pe.requires_grad and torch.equal(pe, c.encoder.position_embeddings)


def test_bad_inputs_are_value_errors():
    model = VQVAE(preset("tiny", "gaze")).eval()
    with pytest.raises(ValueError, match=r"shape \(B, 60, 3\)"):
        model.encode(torch.zeros(2, 60, 2))
    with pytest.raises(ValueError, match="floating-point"):
        model.encode(torch.zeros(2, 60, 3, dtype=torch.int64))
    x = _gaze_batch(1)
    x[0, 4, 0] = math.nan
    with pytest.raises(ValueError, match="NaN"):
        model.encode(x)
    with pytest.raises(ValueError, match=r"\[0, 256\)"):
        model.decode_tokens(torch.full((1, 30), 256))
    with pytest.raises(ValueError, match=r"\[0, 256\)"):
        model.decode_tokens(torch.full((1, 30), -1))
    with pytest.raises(ValueError, match="integer"):
        model.decode_tokens(torch.zeros(1, 30))
    with pytest.raises(ValueError, match=r"shape \(B, 30\)"):
        model.decode_tokens(torch.zeros(1, 29, dtype=torch.long))


def test_losses():
    a = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    target = torch.tensor([[[0.0, 0.0, 1.0], [9.0, 9.0, 0.0]]])
    # Sum over both coordinates of valid frames / number of valid frames.
    assert float(masked_mse_loss(a, target)) == pytest.approx(1.0 + 4.0)
    assert float(mse_loss(a, torch.zeros_like(a))) == pytest.approx(30 / 4)
    with pytest.raises(ValueError, match="target"):
        masked_mse_loss(a, target[..., :2])


def test_tiny_model_learns_and_gradients_reach_the_encoder():
    torch.manual_seed(0)
    cfg = VQVAEConfig("cam", dim=32, depth=1, heads=2, codebook_size=32)
    model = VQVAE(cfg, seed=1).train()
    t = torch.linspace(0, 1, 60)
    freqs = torch.rand(8, 1, 9) * 3
    x = torch.sin(2 * math.pi * freqs * t[None, :, None])  # (8, 60, 9) smooth trajectories
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(0)
    losses = []
    for step in range(20):
        out = model(x, generator=gen)
        loss = model.losses(out, x)["total"]
        opt.zero_grad()
        loss.backward()
        if step == 0:
            assert float(model.encoder.conv.weight.grad.abs().sum()) > 0
            assert model.encoder.position_embeddings.grad is None
        opt.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    assert float(model.quantize.codebook.cluster_size.sum()) > 0


def test_save_and_load_our_format(tmp_path):
    model = VQVAE(preset("tiny", "cam"), seed=7).eval()
    save_vqvae(model, tmp_path / "tok", {"note": "unit test"})
    back = load_vqvae(tmp_path / "tok")
    assert back.config == model.config and not back.training
    x = torch.randn(2, 60, 9)
    with torch.no_grad():
        assert torch.equal(back.encode(x), model.encode(x))
        assert torch.equal(
            back.decode_tokens(model.encode(x)), model.decode_tokens(model.encode(x))
        )


def test_eval_path_exports_to_onnx(tmp_path):
    ort = pytest.importorskip("onnxruntime")

    class Encode(torch.nn.Module):
        def __init__(self, m: VQVAE) -> None:
            super().__init__()
            self.m = m

        def forward(self, x):
            return self.m.encode(x)

    model = VQVAE(preset("tiny", "gaze")).eval()
    path = tmp_path / "enc.onnx"
    torch.onnx.export(
        Encode(model), (_gaze_batch(2),), str(path), dynamo=False,
        input_names=["x"], output_names=["indices"], dynamic_axes={"x": {0: "B"}},
    )  # fmt: skip
    x = _gaze_batch(5, seed=3)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"x": x.numpy()})[0]
    np.testing.assert_array_equal(got, model.encode(x).numpy())
