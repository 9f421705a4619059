"""GazeGraph CSVs: 30-Hz rows, the bottom-left flip, the square crop, clips on the row grid."""

from __future__ import annotations

import numpy as np
import pytest

from egom2p_edge.training.curate.pipeline import CurationConfig, curate_recording
from egom2p_edge.training.curate.report import CurationReport
from egom2p_edge.training.sources.gazegraph import (
    gazegraph_files,
    load_gazegraph,
    read_gazegraph_csv,
)

DA = ("gazegraph", "DesktopActivity")


@pytest.mark.real_data
def test_files_and_rows(real_dir):
    files = gazegraph_files([real_dir.joinpath(*DA)])
    assert len(files) == 36
    watch = real_dir.joinpath(*DA, "P1", "P1_WATCH.csv")
    assert len(read_gazegraph_csv(watch).timestamps_ns) == 8998


@pytest.mark.real_data
def test_clips_take_rows_on_the_60_frame_grid(real_dir):
    path = real_dir.joinpath(*DA, "P2", "P2_READ.csv")
    raw = np.loadtxt(path, delimiter=",")  # (9000, 2) as recorded
    rec = load_gazegraph(path, scene_size=None)
    report = CurationReport()
    clips = list(curate_recording(rec, CurationConfig(), report))
    assert report.windows_considered == 150  # 9000 rows = 150 non-overlapping 60-row windows
    for clip in clips[:5] + clips[-3:]:
        start = int(clip.meta["t_start_ns"]) * 30 // 1_000_000_000
        want = np.stack([raw[start : start + 60, 0], 1.0 - raw[start : start + 60, 1]], axis=1)
        v = clip.gaze_valid
        np.testing.assert_allclose(clip.gaze_xy_norm[v], want[v], atol=1e-12)
        assert clip.licence.startswith("GazeGraph: no licence file")


@pytest.mark.real_data
def test_square_crop_of_the_scene_frame(real_dir):
    path = real_dir.joinpath(*DA, "P1", "P1_BROWSE.csv")
    raw = np.loadtxt(path, delimiter=",")
    g = read_gazegraph_csv(path)  # 1280x720: crop x in [280, 1000)
    np.testing.assert_allclose(g.xy_norm[:, 0], (raw[:, 0] * 1280 - 280) / 720, atol=1e-12)
    np.testing.assert_allclose(g.xy_norm[:, 1], 1.0 - raw[:, 1], atol=1e-12)


def test_nan_rows_masked_and_bad_rows_rejected(tmp_path):
    p = tmp_path / "P9_TEST.csv"
    rows = ["0.5,0.5"] * 130
    rows[7] = "nan,0.5"
    p.write_text("\n".join(rows) + "\n")
    g = read_gazegraph_csv(p)
    assert g.masked["gaze_nonfinite"] == 1 and not g.valid[7] and g.valid.sum() == 129
    rows[9] = "0.5"
    p.write_text("\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=r"P9_TEST.csv:10: expected 2 fields"):
        read_gazegraph_csv(p)
    with pytest.raises(FileNotFoundError):
        gazegraph_files([tmp_path / "nope"])
