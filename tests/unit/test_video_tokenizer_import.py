"""Import of a Cosmos ``encoder.jit`` / ``decoder.jit`` pair: config inference and clear errors."""

from __future__ import annotations

import shutil
import warnings

import pytest
import torch
from torch import nn

from egom2p_edge.checkpoints.video_import import import_released_jit, load_released_jit
from egom2p_edge.models.video.config import VideoTokenizerConfig
from egom2p_edge.models.video.tokenizer import VideoTokenizer


class _EncoderJit(nn.Module):
    """Same layout as the official encoder_jit(): (encoder, quant_conv, quantizer)."""

    def __init__(self, model: VideoTokenizer) -> None:
        super().__init__()
        self.encoder, self.quant_conv, self.quantizer = (
            model.encoder,
            model.quant_conv,
            model.quantizer,
        )

    def forward(self, x):
        return self.quantizer(self.quant_conv(self.encoder(x)))


class _DecoderJit(nn.Module):
    """Same layout as the official decoder_jit() minus inv_quant: (post_quant_conv, decoder)."""

    def __init__(self, model: VideoTokenizer) -> None:
        super().__init__()
        self.post_quant_conv, self.decoder = model.post_quant_conv, model.decoder

    def forward(self, codes):
        return self.decoder(self.post_quant_conv(codes))


def _write_pair(folder, cfg: VideoTokenizerConfig, seed: int) -> VideoTokenizer:
    torch.manual_seed(seed)
    model = VideoTokenizer(cfg).eval()
    x = torch.rand(1, 3, 9, 2 * cfg.spatial_compression, 2 * cfg.spatial_compression) * 2 - 1
    codes = torch.rand(1, cfg.embedding_dim, 3, 2, 2)
    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.jit.save(
            torch.jit.trace(_EncoderJit(model), x, check_trace=False), str(folder / "encoder.jit")
        )
        torch.jit.save(
            torch.jit.trace(_DecoderJit(model), codes, check_trace=False),
            str(folder / "decoder.jit"),
        )
    return model


SIZES = [
    VideoTokenizerConfig(channels=4, channels_mult=(2, 4, 4), num_res_blocks=1),
    VideoTokenizerConfig(
        channels=6, channels_mult=(1, 2), num_res_blocks=2, levels=(8, 5, 5, 5), embedding_dim=4
    ),
    VideoTokenizerConfig(
        channels=4, channels_mult=(1, 1, 2), num_res_blocks=1, spatial_compression=16
    ),
]


@pytest.mark.parametrize("cfg", SIZES)
def test_config_and_weights_are_recovered(tmp_path, cfg):
    model = _write_pair(tmp_path, cfg, seed=5)
    kind, config, state, provenance = import_released_jit(tmp_path)
    assert kind == "video_tokenizer"
    assert VideoTokenizerConfig.from_dict(config) == cfg
    assert list(state) == list(model.state_dict())
    for key, value in model.state_dict().items():
        assert torch.equal(state[key], value), key
    assert set(provenance["files"]) == {"encoder.jit", "decoder.jit"}
    assert len(provenance["files"]["encoder.jit"]["sha256"]) == 64
    # The imported model computes what the original does.
    x = torch.rand(1, 3, 5, cfg.spatial_compression, cfg.spatial_compression) * 2 - 1
    assert torch.equal(load_released_jit(tmp_path).encode_tensor(x), model.encode_tensor(x))


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """A small jit pair, written once; tests copy it before changing anything."""
    folder = tmp_path_factory.mktemp("pair")
    _write_pair(folder, SIZES[0], seed=0)
    return folder


def _copy(pair, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(pair, dst)
    return dst


def test_missing_folder_or_file(pair, tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        import_released_jit(tmp_path / "nowhere")
    tmp_path = _copy(pair, tmp_path)
    (tmp_path / "decoder.jit").unlink()
    with pytest.raises(FileNotFoundError, match="decoder.jit"):
        import_released_jit(tmp_path)


def test_not_a_torchscript_file(pair, tmp_path):
    tmp_path = _copy(pair, tmp_path)
    (tmp_path / "decoder.jit").write_bytes(b"definitely not a zip archive")
    with pytest.raises(ValueError, match="decoder.jit.*TorchScript"):
        import_released_jit(tmp_path)


def test_mismatched_pair_names_the_tensors(pair, tmp_path):
    shutil.copytree(pair, tmp_path / "a")
    wider = VideoTokenizerConfig(channels=8, channels_mult=(2, 4, 4), num_res_blocks=1)
    _write_pair(tmp_path / "b", wider, seed=0)
    shutil.copy(tmp_path / "b" / "decoder.jit", tmp_path / "a" / "decoder.jit")
    with pytest.raises(ValueError, match=r"mismatched shapes.*decoder\.") as info:
        import_released_jit(tmp_path / "a")
    assert "decoder.jit" in str(info.value)


def test_swapped_files_are_refused(pair, tmp_path):
    tmp_path = _copy(pair, tmp_path)
    enc, dec = tmp_path / "encoder.jit", tmp_path / "decoder.jit"
    enc.rename(tmp_path / "tmp.jit")
    dec.rename(enc)
    (tmp_path / "tmp.jit").rename(dec)
    with pytest.raises(ValueError, match="encoder.jit"):
        import_released_jit(tmp_path)


def test_fixture_pair_survives_our_checkpoint_format(parity_dir, tmp_path):
    from safetensors.numpy import load_file

    from egom2p_edge.checkpoints.sdk_format import load_checkpoint, save_checkpoint

    folder = parity_dir / "video_tokenizer"
    kind, config, state, provenance = import_released_jit(folder)
    save_checkpoint(tmp_path / "ckpt", kind, config, state, provenance)
    kind2, config2, state2, provenance2 = load_checkpoint(tmp_path / "ckpt")
    assert (kind2, config2, provenance2) == (kind, config, provenance)
    model = VideoTokenizer(VideoTokenizerConfig.from_dict(config2)).eval()
    model.load_state_dict(state2, strict=True)
    fx = load_file(str(folder / "fixtures.safetensors"))
    assert torch.equal(model.encode(fx["frames_uint8"]), torch.from_numpy(fx["indices"]).long())
