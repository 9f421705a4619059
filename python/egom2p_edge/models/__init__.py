"""The PyTorch reference model: gaze/camera tokenizers, video tokenizer, backbone, generation."""
