"""Pupil Neon native recording: raw gaze records, times, the scene crop, truncated files."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from egom2p_edge.training.curate.pipeline import CurationConfig, curate_recording
from egom2p_edge.training.curate.report import CurationReport
from egom2p_edge.training.sources.neon import load_neon, read_neon_gaze, read_neon_scene_times

REC = ("pl-neon-recording", "tests", "data", "demo_recording")


@pytest.fixture(scope="module")
def rec_dir(real_dir):
    return real_dir.joinpath(*REC)


@pytest.mark.real_data
def test_gaze_records(rec_dir):
    g = read_neon_gaze(rec_dir)
    assert len(g.timestamps_ns) == 1788 and g.valid.all()
    rate = 1e9 / np.median(np.diff(g.timestamps_ns))
    assert 190 < rate < 210  # 200 Hz
    raw = np.frombuffer((rec_dir / "gaze ps1.raw").read_bytes(), dtype=[("x", "<f4"), ("y", "<f4")])
    np.testing.assert_allclose(g.xy_norm[:, 0], (raw["x"].astype(np.float64) - 200) / 1200)
    np.testing.assert_allclose(g.xy_norm[:, 1], raw["y"].astype(np.float64) / 1200)
    scene = read_neon_scene_times(rec_dir)
    assert len(scene) == 292 and 29 < 1e9 / np.median(np.diff(scene)) < 31


@pytest.mark.real_data
def test_curated_gaze_clips(rec_dir):
    report = CurationReport()
    clips = list(curate_recording(load_neon(rec_dir), CurationConfig(), report))
    assert len(clips) == 4  # 9 s of gaze, non-overlapping 2-s windows
    assert all(c.modalities == ("gaze",) and c.gaze_valid.all() for c in clips)


@pytest.mark.real_data
def test_truncated_and_inconsistent_files(rec_dir, tmp_path):
    d = tmp_path / "rec"
    shutil.copytree(rec_dir, d)
    raw = (d / "gaze ps1.raw").read_bytes()
    (d / "gaze ps1.raw").write_bytes(raw[:-3])
    with pytest.raises(ValueError, match="truncated"):
        read_neon_gaze(d)
    (d / "gaze ps1.raw").write_bytes(raw[:-8])
    with pytest.raises(ValueError, match="1787 records but 1788 timestamps"):
        read_neon_gaze(d)
    (d / "gaze ps1.raw").write_bytes(raw)
    t = np.frombuffer((d / "gaze ps1.time").read_bytes(), dtype="<u8").copy()
    t[10] = t[9] - 1
    (d / "gaze ps1.time").write_bytes(t.tobytes())
    with pytest.raises(ValueError, match="timestamp 10"):
        read_neon_gaze(d)
    (d / "gaze.dtype").write_text('[("u", "float32"), ("v", "float32")]')
    with pytest.raises(ValueError, match="missing field 'x'"):
        read_neon_gaze(d)
