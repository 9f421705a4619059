"""Streaming building blocks shared by the Python pipeline and mirrored by the C++ runtime."""
