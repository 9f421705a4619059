"""Save and load ``VQVAE`` models: our checkpoint format, or an official tokenizer ``.pth``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from egom2p_edge.models.vqvae.config import VQVAEConfig
from egom2p_edge.models.vqvae.model import VQVAE

KIND = "vqvae"


def save_vqvae(
    model: VQVAE, path: str | Path, provenance: dict[str, Any] | None = None
) -> tuple[Path, Path]:
    """Write ``model`` (config + weights, codebook buffers included) in our format."""
    from egom2p_edge.checkpoints.sdk_format import save_checkpoint

    return save_checkpoint(path, KIND, model.config.to_dict(), model.state_dict(), provenance)


def load_vqvae(path: str | Path, device: str = "cpu") -> VQVAE:
    """An eval-mode ``VQVAE`` from our checkpoint (folder or file pair) or an official ``.pth``."""
    path = Path(path)
    if path.suffix == ".pth":
        from egom2p_edge.checkpoints.vqvae_import import load_official_vqvae

        return load_official_vqvae(path).to(device)
    from egom2p_edge.checkpoints.sdk_format import load_checkpoint

    kind, config, state, _ = load_checkpoint(path, device=device)
    if kind != KIND:
        raise ValueError(f"{path} holds a {kind!r} checkpoint, not a gaze/camera tokenizer")
    model = VQVAE(VQVAEConfig.from_dict(config), seed=None).to(device)
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatches
        raise ValueError(f"{path}: weights do not match the config: {exc}") from None
    if missing or unexpected:
        raise ValueError(
            f"{path}: weights do not match the config: missing {missing[:10]}, unexpected "
            f"{unexpected[:10]}"
        )
    return model.eval()
