"""The standard 2-s clip and its sharded on-disk dataset format.

A ``Clip`` (``clips/clip.py``) holds any subset of RGB video (16 frames, 8 fps), depth video,
gaze (60 samples, 30 Hz) and camera trajectory (60 poses, 30 Hz); its docstring states every
convention. ``ClipDatasetWriter`` writes clips, ``ClipDataset`` reads them back.

On-disk format (version 1)::

    <out_dir>/<name>/
        manifest.json          written last, atomically (temp file + rename)
        shard-000000.tar       uncompressed POSIX (pax) tar, complete when under this name
        shard-000001.tar
        ...

* A shard holds up to ``shard_size`` clips (fewer once it reaches ``max_shard_bytes``). Clip
  number ``k`` of the dataset (0-based, global) is two consecutive members: ``{k:09d}.json``
  (UTF-8 JSON header: ``format`` = "egom2p-clip", ``version``, ``clip_id``, ``source``,
  ``licence``, ``modalities``, ``arrays`` (the stored array names), ``meta``), then
  ``{k:09d}.npz`` (numpy ``savez``, uncompressed unless the writer was given
  ``compress=True``; one entry per present array field of ``Clip``, with exactly the field's
  name, shape and dtype; no pickled objects). Member mtimes are 0 so the same clips give the
  same bytes.
* A shard is written as ``shard-NNNNNN.tar.partial``, flushed, fsync'ed, hashed, then renamed;
  an interrupted write leaves finished shards, at most one ``.partial`` file and no manifest;
  readers refuse a folder without a manifest.
* ``manifest.json``: ``format`` = "egom2p-clip-dataset", ``version``, ``name``, ``num_clips``,
  ``num_shards``, ``modality_counts`` and ``modality_coverage`` (fraction of clips having each
  of rgb/depth/gaze/cam), ``source_counts``, ``licences``, ``video_sizes`` (side -> count),
  ``shards`` (list of ``file``, ``num_clips``, ``first_index``, ``bytes``, ``sha256``) and
  ``extra`` (free JSON, e.g. the curation report).

Reading checks the manifest and every shard's size at open, each shard's sha256 before its first
read, every clip with ``Clip.validate()``, and each shard's clip count.
"""

from egom2p_edge.clips.clip import (
    CLIP_MODALITIES,
    GAZE_VALID_RANGE,
    Clip,
    depth_inv_norm_from_metric,
)
from egom2p_edge.clips.reader import ClipDataset
from egom2p_edge.clips.writer import ClipDatasetWriter

__all__ = [
    "CLIP_MODALITIES",
    "GAZE_VALID_RANGE",
    "Clip",
    "ClipDataset",
    "ClipDatasetWriter",
    "depth_inv_norm_from_metric",
]
