"""Checkpoint I/O: safe import of official EgoM2P ``.pth`` files and our own safetensors format."""
