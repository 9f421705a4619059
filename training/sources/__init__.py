"""Loaders for real egocentric recordings: each returns a ``Recording`` of timestamped tracks.

One module per source: ``aria`` (+ ``aria_mps``, ``aria_gaze``), ``hot3d``, ``tum``, ``euroc``,
``gazegraph``, ``neon``, ``video_csv`` (+ ``video``), ``egom2p_example``. ``types`` defines the
tracks; ``tables`` reads text tables strictly.
"""
