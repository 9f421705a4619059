"""AriaVrsSource on the real ADT sample VRS (3 RGB frames): upright frames, device-clock
timestamps, and the errors for missing files and streams."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from egom2p_edge.devices import AriaVrsSource, FrameSource
from egom2p_edge.paths import shared_path

VRS_PARTS = (
    "fixtures",
    "real",
    "projectaria_tools",
    "data",
    "gen1",
    "aria_digital_twin_test_data",
    "video.vrs",
)


@pytest.fixture(scope="module")
def vrs() -> Path:
    pytest.importorskip("projectaria_tools", reason="projectaria-tools is not installed")
    p = shared_path(*VRS_PARTS)
    if p is None:
        pytest.skip("the ADT sample video.vrs is absent from ../shared/fixtures/real")
    return p


def _raw_images(vrs: Path) -> tuple[list[np.ndarray], list[int]]:
    """The sideways images and capture timestamps straight from projectaria-tools."""
    from projectaria_tools.core import data_provider

    provider = data_provider.create_vrs_data_provider(str(vrs))
    sid = provider.get_stream_id_from_label("camera-rgb")
    images, ts = [], []
    for i in range(provider.get_num_data(sid)):
        image, record = provider.get_image_data_by_index(sid, i)
        images.append(image.to_numpy_array())
        ts.append(record.capture_timestamp_ns)
    return images, ts


@pytest.mark.real_data
def test_frames_are_upright_on_the_device_clock(vrs: Path) -> None:
    raw, raw_ts = _raw_images(vrs)
    with AriaVrsSource(vrs) as src:
        assert isinstance(src, FrameSource)
        assert (src.info.width, src.info.height) == (1408, 1408)
        assert src.info.nominal_fps == pytest.approx(30.0)
        frames = list(src)
    assert len(frames) == 3 == len(raw)
    assert [f.timestamp_ns for f in frames] == raw_ts
    assert all(b > a for a, b in zip(raw_ts, raw_ts[1:]))
    for f, r in zip(frames, raw):
        assert f.rgb.shape == (1408, 1408, 3) and f.rgb.dtype == np.uint8
        h = r.shape[0]
        # 90 degrees clockwise: the raw left column, read bottom to top, is the top row, and the
        # raw top row is the right column.
        np.testing.assert_array_equal(f.rgb[0, :], r[::-1, 0])
        np.testing.assert_array_equal(f.rgb[:, h - 1], r[0, :])
        assert f.meta["rotation"] == "cw90" and f.meta["exposure_duration_s"] > 0
        assert f.rgb.std() > 1  # a real image, not a blank one


@pytest.mark.real_data
def test_max_frames_and_a_missing_stream(vrs: Path) -> None:
    assert len(list(AriaVrsSource(vrs, max_frames=2))) == 2
    with pytest.raises(ValueError, match="camera-nope"):
        AriaVrsSource(vrs, stream_label="camera-nope")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.vrs"):
        AriaVrsSource(tmp_path / "missing.vrs")


def test_a_file_that_is_not_vrs(tmp_path: Path) -> None:
    pytest.importorskip("projectaria_tools", reason="projectaria-tools is not installed")
    bad = tmp_path / "bad.vrs"
    bad.write_bytes(b"not a vrs file")
    with pytest.raises(ValueError, match="could not open"):
        AriaVrsSource(bad)
