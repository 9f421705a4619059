"""HOT3D sequence layout: MPS poses and gaze, the ground-truth headset file, bad metadata."""

from __future__ import annotations

import json

import numpy as np
import pytest

from egom2p_edge.training.curate.pipeline import CurationConfig, curate_recording
from egom2p_edge.training.curate.report import CurationReport
from egom2p_edge.training.sources.aria_mps import read_mps_trajectory
from egom2p_edge.training.sources.hot3d import load_hot3d, read_headset_trajectory

SEQ = ("hot3d", "hot3d", "data_loaders", "tests", "data_sample", "Aria", "P0003_c701bd11")


@pytest.fixture(scope="module")
def seq(real_dir):
    return real_dir.joinpath(*SEQ)


@pytest.mark.real_data
def test_poses_ignore_garbage_velocities_and_match_headset_file(seq):
    ts, T, counts = read_mps_trajectory(seq / "mps" / "slam" / "closed_loop_trajectory.csv")
    assert len(ts) == 1134 and counts["pose_rows_bad_dropped"] == 0
    hts, hT, _ = read_headset_trajectory(seq / "headset_trajectory.csv")
    assert len(hts) == 68
    # the ground-truth file is on another clock but holds the same poses: its first pose
    # equals the MPS first pose, and 0.5 s later (in each file's own clock) they agree again
    np.testing.assert_allclose(hT[0], T[0], atol=1e-12)
    k = int(np.argmin(np.abs(hts - hts[0] - 500_000_000)))
    j = int(np.argmin(np.abs(ts - ts[0] - (hts[k] - hts[0]))))
    np.testing.assert_allclose(hT[k], T[j], atol=1e-9)


@pytest.mark.real_data
def test_recording_and_gaze(seq):
    try:
        import projectaria_tools.core  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"projectaria-tools not importable: {exc}")
    rec = load_hot3d(seq, gaze="require")
    assert rec.source == "hot3d" and rec.tracks == ("cam", "gaze")
    assert len(rec.gaze.timestamps_ns) == 11 and rec.gaze.valid.all()
    assert np.all((rec.gaze.xy_norm > 0) & (rec.gaze.xy_norm < 1))
    report = CurationReport()
    assert list(curate_recording(rec, CurationConfig(), report)) == []  # 1.1 s < one window
    assert report.recordings_without_windows == 1


def test_bad_metadata(tmp_path):
    with pytest.raises(FileNotFoundError, match="metadata.json"):
        load_hot3d(tmp_path)
    (tmp_path / "metadata.json").write_text(json.dumps({"headset": "Quest3"}))
    with pytest.raises(ValueError, match="Quest3"):
        load_hot3d(tmp_path)
    (tmp_path / "metadata.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_hot3d(tmp_path)
