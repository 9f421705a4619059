"""Save and load ``VideoTokenizer`` models: our checkpoint format, or a folder with the released
Cosmos ``encoder.jit`` + ``decoder.jit`` (their weights only; their code never runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from egom2p_edge.models.video.config import VideoTokenizerConfig
from egom2p_edge.models.video.tokenizer import VideoTokenizer

KIND = "video_tokenizer"


def save_video_tokenizer(
    model: VideoTokenizer, path: str | Path, provenance: dict[str, Any] | None = None
) -> tuple[Path, Path]:
    """Write ``model`` (config + weights) in our format."""
    from egom2p_edge.checkpoints.sdk_format import save_checkpoint

    return save_checkpoint(path, KIND, model.config.to_dict(), model.state_dict(), provenance)


def load_video_tokenizer(path: str | Path, device: str = "cpu") -> VideoTokenizer:
    """An eval-mode ``VideoTokenizer`` from our checkpoint or a released ``.jit`` pair folder."""
    path = Path(path)
    if path.is_dir() and (path / "encoder.jit").is_file():
        from egom2p_edge.checkpoints.video_import import load_released_jit

        return load_released_jit(path).to(device).eval()
    from egom2p_edge.checkpoints.sdk_format import load_checkpoint

    kind, config, state, _ = load_checkpoint(path, device=device)
    if kind != KIND:
        raise ValueError(f"{path} holds a {kind!r} checkpoint, not a video tokenizer")
    model = VideoTokenizer(VideoTokenizerConfig.from_dict(config)).to(device)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{path}: weights do not match the config: {exc}") from None
    return model.eval()
