"""The Python reference pipeline: the oracle the C++ runtime is tested against.

``ReferencePipeline(bundle_dir)`` offers the API of ``egom2p_edge.Runtime``: ``stream(...)``,
``push(rgb, timestamp_ns)``, ``flush()``, ``timings()``, returning ``Prediction`` objects.
"""

from egom2p_edge.pipeline.reference import ReferencePipeline, ReferenceStream

__all__ = ["ReferencePipeline", "ReferenceStream"]
