"""`egom2p curate` on the real Aria MPS sample, TUM trajectory and GazeGraph files."""

from __future__ import annotations

import json

import pytest

from egom2p_edge.cli.main import main
from egom2p_edge.clips import ClipDataset


def _curate(capsys, *argv):
    code = main(["curate", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.real_data
def test_aria_mps(real_dir, tmp_path, capsys):
    mps = real_dir / "projectaria_tools" / "data" / "gen1" / "mps_sample"
    code, out, err = _curate(
        capsys, "aria-mps", str(mps), "--out", str(tmp_path), "--stride-s", "0.5"
    )
    assert code == 0, err
    ds = ClipDataset(tmp_path / "aria-mps")
    assert len(ds) == 19
    report = ds.manifest["extra"]["curation_report"]
    assert report["windows_kept"] == 19 and report["windows_dropped"] == {}
    assert f"wrote 19 clips to {tmp_path / 'aria-mps'}" in out
    assert "windows: 19 considered, 19 kept, 0 dropped" in out
    assert "curate aria-mps" in err  # the progress bar
    clip = ds[0]
    assert "cam" in clip.modalities and clip.meta["pose_conventions"][-1] == "aria_cw90"


@pytest.mark.real_data
def test_tum_and_gazegraph(real_dir, tmp_path, capsys):
    tum = real_dir / "evo" / "test" / "data" / "fr2_desk_groundtruth.txt"
    code, out, err = _curate(capsys, "tum", str(tum), "--out", str(tmp_path))
    assert code == 0, err
    report = ClipDataset(tmp_path / "tum").manifest["extra"]["curation_report"]
    assert report["windows_kept"] == 34 and report["windows_dropped"] == {"gap_cam": 15}
    assert report["loader"]["pose_rows_duplicate_dropped"] == 1
    p1 = real_dir / "gazegraph" / "DesktopActivity" / "P1"
    code, out, err = _curate(capsys, "gazegraph", str(p1), "--out", str(tmp_path), "--name", "gg")
    assert code == 0, err
    ds = ClipDataset(tmp_path / "gg")
    m = ds.manifest
    assert m["modality_counts"]["gaze"] == len(ds) == m["extra"]["curation_report"]["windows_kept"]
    assert len(m["extra"]["inputs"]) == 6
    considered = m["extra"]["curation_report"]["windows_considered"]
    assert considered == 5 * 150 + 149  # P1_WATCH has 8998 rows


def test_errors_are_reported(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("1.0 0 0 0 0 0 0 1\n0.5 0 0 0 0 0 0 1\n")
    code, out, err = _curate(capsys, "tum", str(bad), "--out", str(tmp_path))
    assert code == 2 and "bad.txt:2" in err and "backwards" in err
    assert not (tmp_path / "tum" / "manifest.json").exists()  # no dataset that looks complete
    good = tmp_path / "good.txt"
    good.write_text("".join(f"{1 + k / 30:.6f} {k / 100} 0 0 0 0 0 1\n" for k in range(90)))
    code, out, err = _curate(
        capsys, "tum", str(bad), str(good), "--out", str(tmp_path), "--skip-bad", "--overwrite"
    )
    assert code == 0, err
    m = json.loads((tmp_path / "tum" / "manifest.json").read_text())
    assert m["num_clips"] == 1
    assert len(m["extra"]["curation_report"]["recordings_failed"]) == 1
    code, out, err = _curate(capsys, "tum", str(good), "--out", str(tmp_path))
    assert code == 2 and "overwrite" in err
    code, out, err = _curate(
        capsys, "tum", str(good), "--out", str(tmp_path), "--overwrite", "--modalities", "imu"
    )
    assert code == 2 and "modalities" in err
