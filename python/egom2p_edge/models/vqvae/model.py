"""``VQVAE``: the gaze/camera tokenizer (60 samples <-> 30 tokens), encoder + quantizer + decoder.

Submodules are registered in the official order (encoder, quant_proj, quantize, decoder,
post_quant_proj), so ``state_dict()`` has the official keys in the official order and official
weights load strictly. Public methods validate their inputs; the tensor paths they call
(``encode_latents``, ``quantize.indices``, ``decode_quant``) are free of data-dependent Python
control flow and export to ONNX.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from egom2p_edge.models.vqvae.coders import TrajDecoder, TrajEncoder
from egom2p_edge.models.vqvae.config import VQVAEConfig
from egom2p_edge.models.vqvae.losses import reconstruction_loss
from egom2p_edge.models.vqvae.quantizer import VectorQuantizer


class VQVAEOutput(NamedTuple):
    recon: torch.Tensor  # (B, T, C_out): decoded, normalised units
    code_loss: torch.Tensor  # (1,): commitment loss (0 in eval mode)
    indices: torch.Tensor  # (B, N) int64
    latents: torch.Tensor  # (B, Dz, N): quant_proj output, before quantisation


def _tracing() -> bool:
    """True while torch.jit / torch.export / ONNX export is tracing (value checks are skipped:
    they are data-dependent Python control flow)."""
    if torch.jit.is_tracing():
        return True
    compiler = getattr(torch, "compiler", None)
    return bool(compiler is not None and compiler.is_compiling())


class VQVAE(nn.Module):
    """Transformer VQ-VAE for one trajectory domain (``config.domain``: cam or gaze)."""

    def __init__(self, config: VQVAEConfig, *, seed: int | None = 0) -> None:
        """Build the model. ``seed`` initialises the weights from its own generator (the global
        RNG is left untouched); None keeps PyTorch's default init. On the meta device (e.g.
        ``with torch.device("meta"):``) no init runs."""
        super().__init__()
        self.config = config
        cfg = config
        with torch.random.fork_rng(devices=[]):  # default module init must not move global RNG
            self.encoder = TrajEncoder(cfg)
            self.quant_proj = nn.Conv1d(cfg.dim, cfg.latent_dim, kernel_size=1)
            self.quantize = VectorQuantizer(
                cfg.codebook_size,
                cfg.latent_dim,
                cfg.ema_decay,
                cfg.dead_code_threshold,
                cfg.commitment_weight,
                cfg.sync_codebook,
            )
            self.decoder = TrajDecoder(cfg)
            self.post_quant_proj = nn.Conv1d(cfg.latent_dim, cfg.dim, kernel_size=1)
        if seed is not None and not self.quant_proj.weight.is_meta:
            self.reset_parameters(torch.Generator().manual_seed(seed))

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator) -> None:
        """Xavier-uniform linear/conv weights, zero biases, unit LayerNorms, a fresh codebook.

        Position embeddings stay the fixed sin-cos tables.
        """
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Conv1d)):
                w = m.weight.view(m.weight.shape[0], -1)  # (out, in * k)
                nn.init.xavier_uniform_(w, generator=generator)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        self.quantize.codebook.reset(generator)

    # ----- input checks ---------------------------------------------------------------------

    def check_input(self, x: torch.Tensor) -> None:
        """ValueError unless ``x`` is a float tensor (B, num_frames, input_channels) without NaN."""
        if _tracing():  # export traces the tensor path only; checks are for eager callers
            return
        cfg = self.config
        expected = f"(B, {cfg.num_frames}, {cfg.input_channels})"
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise ValueError(
                f"VQVAE({cfg.domain}) input must be a floating-point tensor {expected}, got "
                f"{getattr(x, 'dtype', type(x).__name__)}"
            )
        if x.ndim != 3 or tuple(x.shape[1:]) != (cfg.num_frames, cfg.input_channels):
            raise ValueError(
                f"VQVAE({cfg.domain}) input must have shape {expected}, got {tuple(x.shape)}; "
                f"preprocess with egom2p_edge.models.vqvae.preprocess first"
            )
        if bool(torch.isnan(x).any()):
            hint = (
                "gaze: mark invalid frames with validity 0 (gaze_to_model_input does this)"
                if cfg.domain == "gaze"
                else "camera poses must be finite"
            )
            raise ValueError(f"VQVAE({cfg.domain}) input contains NaN; {hint}")

    def check_indices(self, indices: torch.Tensor) -> None:
        """ValueError unless ``indices`` is an integer tensor (B, num_tokens) in the vocabulary."""
        if _tracing():
            return
        cfg = self.config
        if (
            not isinstance(indices, torch.Tensor)
            or indices.is_floating_point()
            or (indices.dtype == torch.bool)
        ):
            raise ValueError(
                f"VQVAE({cfg.domain}) token ids must be an integer tensor (B, {cfg.num_tokens}), "
                f"got {getattr(indices, 'dtype', type(indices).__name__)}"
            )
        if indices.ndim != 2 or indices.shape[1] != cfg.num_tokens:
            raise ValueError(
                f"VQVAE({cfg.domain}) token ids must have shape (B, {cfg.num_tokens}), got "
                f"{tuple(indices.shape)}"
            )
        if indices.numel() > 0:
            lo, hi = int(indices.min()), int(indices.max())
            if lo < 0 or hi >= cfg.codebook_size:
                raise ValueError(
                    f"VQVAE({cfg.domain}) token ids must be in [0, {cfg.codebook_size}), got "
                    f"values in [{lo}, {hi}]"
                )

    # ----- tensor paths -----------------------------------------------------------------------

    def encode_latents(self, x: torch.Tensor) -> torch.Tensor:
        """Latents before quantisation. Shape (B, T, C_in) -> (B, Dz, N)."""
        z = self.quant_proj(self.encoder(x))  # (B, D, N) -> (B, Dz, N)
        if self.config.norm_latents:
            z = nn.functional.normalize(z, dim=1)
        return z

    def tokens_to_embedding(self, indices: torch.Tensor) -> torch.Tensor:
        """Stored codebook rows. Shape (B, N) -> (B, Dz, N)."""
        return self.quantize.embed_indices(indices)

    def decode_quant(self, quant: torch.Tensor) -> torch.Tensor:
        """Decoder from quantized latents. Shape (B, Dz, N) -> (B, T, C_out)."""
        return self.decoder(self.post_quant_proj(quant))  # (B, D, N) -> (B, T, C_out)

    # ----- public API -------------------------------------------------------------------------

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Token ids of normalised clips. Shape (B, T, C_in) -> (B, N) int64."""
        self.check_input(x)
        return self.quantize.indices(self.encode_latents(x))

    def decode_tokens(self, indices: torch.Tensor) -> torch.Tensor:
        """Normalised reconstruction from token ids. Shape (B, N) -> (B, T, C_out)."""
        self.check_indices(indices)
        return self.decode_quant(self.tokens_to_embedding(indices))

    def forward(
        self,
        x: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
        replace_dead_codes: bool = True,
    ) -> VQVAEOutput:
        """Autoencode (B, T, C_in). In training mode the codebook is updated (EMA, then dead-code
        restarts drawn with ``generator``) and the output is straight-through."""
        self.check_input(x)
        z = self.encode_latents(x)
        q = self.quantize(z, generator=generator, replace_dead_codes=replace_dead_codes)
        return VQVAEOutput(self.decode_quant(q.quantized), q.loss, q.indices, z)

    def losses(self, out: VQVAEOutput, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``reconst`` (mse or masked mse), ``code`` and ``total`` = weighted sum. Each (1,)."""
        cfg = self.config
        recon = reconstruction_loss(cfg.recon_loss, out.recon, x)
        total = cfg.reconst_weight * recon + cfg.codebook_weight * out.code_loss
        return {"reconst": recon, "code": out.code_loss, "total": total}
