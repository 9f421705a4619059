"""EuRoC ground truth (body poses -> cam0) against the metric fixture windows; bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from egom2p_edge.training.curate.pipeline import CurationConfig, curate_window
from egom2p_edge.training.sources.euroc import T_BODY_CAM0, load_euroc, read_euroc_groundtruth
from egom2p_edge.training.sources.tables import seconds_text_to_ns
from egom2p_edge.training.sources.tum import read_tum_poses

# As for TUM: evo's float64-second times (Unix 1.4e9 s, 2.4e-7 s resolution) vs our exact ns;
# measured max difference 5.1e-7.
EUROC_TOL = 1e-6


@pytest.mark.real_data
def test_groundtruth_windows_match_metric_fixtures(real_dir, metrics_fixture_dir):
    path = real_dir / "evo" / "test" / "data" / "V102_groundtruth.csv"
    rec = load_euroc(path)
    assert len(rec.poses.timestamps_ns) == 16702
    np.testing.assert_array_equal(rec.poses.T_body_camera[0], T_BODY_CAM0)
    meta = json.loads((metrics_fixture_dir / "camera" / "camera_metrics.json").read_text())
    windows = [w for w in meta["windows"] if w["source"] == "euroc_V102"]
    assert len(windows) == 20
    for w in windows:
        clip = curate_window(rec, seconds_text_to_ns(repr(w["t_start"])), CurationConfig())
        ref = np.load(metrics_fixture_dir / w["file"])
        np.testing.assert_allclose(clip.T_first_camera, ref["gt_c2w"], atol=EUROC_TOL, rtol=0)


@pytest.mark.real_data
def test_tum_format_estimate_in_body_frame(real_dir):
    track, counts = read_tum_poses(
        real_dir / "evo" / "test" / "data" / "V102.txt", T_body_camera=T_BODY_CAM0
    )
    # 807 rows, 4 of which repeat the previous row's timestamp (e.g. line 433)
    assert len(track.timestamps_ns) == 803 and counts["pose_rows_duplicate_dropped"] == 4
    assert np.median(np.diff(track.timestamps_ns)) == pytest.approx(1e8, rel=1e-3)  # 10 Hz


def test_missing_column(tmp_path):
    p = tmp_path / "gt.csv"
    p.write_text("#timestamp, p_RS_R_x [m], p_RS_R_y [m]\n1,0,0\n")
    with pytest.raises(ValueError, match=r"missing columns \['p_RS_R_z \[m\]'"):
        read_euroc_groundtruth(p)
