"""Tests of the sharded clip dataset: round trip, manifest, interrupted writes, corruption."""

from __future__ import annotations

import json

import numpy as np
import pytest

from egom2p_edge.clips import Clip, ClipDataset, ClipDatasetWriter
from egom2p_edge.clips.example import example_clip as full_clip


def _write(tmp_path, n=5, shard_size=2, name="ds"):
    clips = [full_clip(seed=i) for i in range(n)]
    clips[1].rgb = None  # a clip without rgb: coverage < 1
    clips[1].rgb_timestamps_ns = None
    with ClipDatasetWriter(tmp_path, name, shard_size=shard_size) as w:
        for c in clips:
            w.write(c)
    return clips, tmp_path / name


def _same(a: Clip, b: Clip) -> None:
    assert a.clip_id == b.clip_id and a.meta == b.meta and a.modalities == b.modalities
    for k in (
        "rgb",
        "depth_m",
        "depth_inv_norm",
        "depth_valid",
        "gaze_xy_norm",
        "gaze_valid",
        "T_first_camera",
        "camera_timestamps_ns",
        "rgb_timestamps_ns",
    ):
        x, y = getattr(a, k), getattr(b, k)
        assert (x is None) == (y is None), k
        if x is not None:
            assert x.dtype == y.dtype and np.array_equal(x, y), k


def test_round_trip_iteration_and_index(tmp_path):
    clips, path = _write(tmp_path)
    ds = ClipDataset(path)
    assert len(ds) == 5 and len(ds.shards) == 3
    for a, b in zip(clips, ds):
        _same(a, b)
    _same(clips[3], ds[3])
    _same(clips[4], ds[-1])
    _same(clips[0], ds[-5])
    with pytest.raises(IndexError, match="ClipDataset: index 5 out of range for 5 clips"):
        ds[5]
    with pytest.raises(IndexError, match="index -1 out of range for 5 clips"):
        ds[-6]
    m = ds.manifest
    assert m["modality_counts"] == {"rgb": 4, "depth": 5, "gaze": 5, "cam": 5}
    assert m["modality_coverage"]["rgb"] == pytest.approx(0.8)
    assert [s["num_clips"] for s in m["shards"]] == [2, 2, 1]
    assert ClipDataset(path / "manifest.json").manifest == m


def test_shards_are_deterministic(tmp_path):
    _, p1 = _write(tmp_path, name="a")
    _, p2 = _write(tmp_path, name="b")
    h1 = [s["sha256"] for s in ClipDataset(p1).shards]
    assert h1 == [s["sha256"] for s in ClipDataset(p2).shards]


def test_interrupted_write_leaves_no_complete_looking_shard(tmp_path):
    with pytest.raises(RuntimeError):
        with ClipDatasetWriter(tmp_path, "ds", shard_size=2) as w:
            for i in range(3):
                w.write(full_clip(seed=i))
            raise RuntimeError("simulated crash")
    names = sorted(p.name for p in (tmp_path / "ds").iterdir())
    assert names == ["shard-000000.tar"]  # the finished shard only; no partial, no manifest
    with pytest.raises(FileNotFoundError, match="interrupted"):
        ClipDataset(tmp_path / "ds")


def test_partial_shard_name_while_writing(tmp_path):
    w = ClipDatasetWriter(tmp_path, "ds", shard_size=4)
    w.write(full_clip())
    names = sorted(p.name for p in (tmp_path / "ds").iterdir())
    assert names == ["shard-000000.tar.partial"]
    w.close()
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == [
        "manifest.json",
        "shard-000000.tar",
    ]


def test_overwrite_rules(tmp_path):
    _write(tmp_path)
    (tmp_path / "ds" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="overwrite"):
        ClipDatasetWriter(tmp_path, "ds")
    with ClipDatasetWriter(tmp_path, "ds", overwrite=True) as w:
        w.write(full_clip(seed=9))
    assert len(ClipDataset(tmp_path / "ds")) == 1
    assert (tmp_path / "ds" / "notes.txt").read_text() == "keep me"


def test_corrupted_shard_detected(tmp_path):
    _, path = _write(tmp_path)
    shard = path / "shard-000001.tar"
    data = bytearray(shard.read_bytes())
    data[2000] ^= 0xFF
    shard.write_bytes(bytes(data))
    ds = ClipDataset(path)
    with pytest.raises(ValueError, match="sha256"):
        list(ds)


def test_truncated_and_missing_shard_detected(tmp_path):
    _, path = _write(tmp_path)
    shard = path / "shard-000000.tar"
    shard.write_bytes(shard.read_bytes()[:-100])
    with pytest.raises(ValueError, match="bytes"):
        ClipDataset(path)
    shard.unlink()
    with pytest.raises(FileNotFoundError, match="missing"):
        ClipDataset(path)


def test_bad_manifest(tmp_path):
    _, path = _write(tmp_path)
    m = json.loads((path / "manifest.json").read_text())
    m["num_clips"] = 7
    (path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ValueError, match="num_clips"):
        ClipDataset(path)
    (path / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match="JSON"):
        ClipDataset(path)
    with pytest.raises(FileNotFoundError):
        ClipDataset(tmp_path / "nowhere")


def test_writer_rejects_invalid_and_duplicate_clips(tmp_path):
    with ClipDatasetWriter(tmp_path, "ds") as w:
        w.write(full_clip(seed=0))
        with pytest.raises(ValueError, match="duplicate"):
            w.write(full_clip(seed=0))
        bad = full_clip(seed=1)
        bad.gaze_valid = None
        with pytest.raises(ValueError, match="gaze_valid"):
            w.write(bad)
    assert len(ClipDataset(tmp_path / "ds")) == 1


def test_parent_folder_hint(tmp_path):
    _write(tmp_path, name="tum")
    with pytest.raises(FileNotFoundError, match="tum"):
        ClipDataset(tmp_path)


def test_shards_close_at_the_byte_limit(tmp_path):
    with ClipDatasetWriter(tmp_path, "ds", shard_size=100, max_shard_bytes=1) as w:
        for i in range(3):
            w.write(full_clip(seed=i))
    ds = ClipDataset(tmp_path / "ds")
    assert [s["num_clips"] for s in ds.shards] == [1, 1, 1]
    assert [c.clip_id for c in ds] == ["example-0", "example-1", "example-2"]
    with pytest.raises(ValueError, match="max_shard_bytes"):
        ClipDatasetWriter(tmp_path, "other", max_shard_bytes=0)
