"""EgoM2P edge SDK: reference model, export and streaming runtime for egocentric gaze and head pose.

The core package imports nothing heavy at import time: torch, onnxruntime and the compiled
runtime are loaded by the submodules that need them. ``egom2p_edge.training``,
``egom2p_edge.export`` and ``egom2p_edge.devices`` build on the core; the core never imports them.
"""

from egom2p_edge._version import __version__

__all__ = ["__version__", "Runtime", "ReferencePipeline"]


def __getattr__(name: str):
    # Lazy attributes keep `import egom2p_edge` cheap and free of torch / the C++ extension.
    if name == "Runtime":
        from egom2p_edge.runtime import Runtime

        return Runtime
    if name == "ReferencePipeline":
        from egom2p_edge.pipeline import ReferencePipeline

        return ReferencePipeline
    raise AttributeError(f"module 'egom2p_edge' has no attribute {name!r}")
