"""Per-component recomputation for ``check_parity`` (tokenizers, backbone, video)."""
