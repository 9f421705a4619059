"""The common frame types: validation of Frame/GazeSample/PoseSample/SourceInfo and the
timestamp-order rule every source enforces."""

from __future__ import annotations

import numpy as np
import pytest

from egom2p_edge.devices import (
    BaseFrameSource,
    Frame,
    FrameSource,
    GazeSample,
    PoseSample,
    SourceInfo,
    TimestampOrderError,
)


def _rgb(h: int = 4, w: int = 5) -> np.ndarray:
    return np.arange(h * w * 3, dtype=np.uint8).reshape(h, w, 3)  # (H, W, 3)


def test_frame_keeps_its_fields_and_normalises_the_timestamp() -> None:
    f = Frame(_rgb(), np.int64(17), "cam", {"k": 1})
    assert type(f.timestamp_ns) is int and f.timestamp_ns == 17
    assert (f.height, f.width) == (4, 5)
    with pytest.raises(AttributeError):
        f.timestamp_ns = 3  # frozen


def test_frame_makes_views_contiguous() -> None:
    view = _rgb(6, 6)[:, ::2]
    f = Frame(view, 0, "cam")
    assert f.rgb.flags.c_contiguous
    np.testing.assert_array_equal(f.rgb, view)


@pytest.mark.parametrize(
    "rgb, match",
    [
        (np.zeros((4, 5, 3), np.float32), "uint8"),
        (np.zeros((4, 5), np.uint8), r"\(H, W, 3\)"),
        (np.zeros((4, 5, 4), np.uint8), r"\(H, W, 3\)"),
        (np.zeros((0, 5, 3), np.uint8), "empty"),
        ([[0, 0, 0]], "numpy array"),
    ],
)
def test_frame_rejects_bad_pixels(rgb, match) -> None:
    with pytest.raises(ValueError, match=match):
        Frame(rgb, 0, "cam")


@pytest.mark.parametrize("ts", [1.5, "3", True, None, 2**63])
def test_frame_rejects_non_integer_timestamps(ts) -> None:
    with pytest.raises(ValueError, match="timestamp_ns"):
        Frame(_rgb(), ts, "cam")


def test_gaze_sample_needs_a_point_or_a_whole_ray() -> None:
    g = GazeSample(5, True, gaze_xy_px=[1.0, 2.0])
    assert g.gaze_xy_px.shape == (2,) and g.direction is None
    r = GazeSample(5, False, origin_m=[0, 0, 0], direction=[0, 0, 1], frame="hl2_eet")
    assert r.valid is False and r.direction.dtype == np.float64
    with pytest.raises(ValueError, match="gaze_xy_px or a ray"):
        GazeSample(5, True)
    with pytest.raises(ValueError, match="both origin_m and direction"):
        GazeSample(5, True, direction=[0, 0, 1])
    with pytest.raises(ValueError, match=r"gaze_xy_px must have shape \(2,\)"):
        GazeSample(5, True, gaze_xy_px=[1.0, 2.0, 3.0])


def test_pose_sample_checks_the_transform() -> None:
    p = PoseSample(1, np.eye(4, dtype=np.float32))
    assert p.T_world_device.dtype == np.float64 and p.valid
    with pytest.raises(ValueError, match=r"\(4, 4\)"):
        PoseSample(1, np.eye(3))
    bad = np.eye(4)
    bad[0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        PoseSample(1, bad)


def test_source_info_validation() -> None:
    assert SourceInfo(None, None, None, "x").width is None
    with pytest.raises(ValueError, match="width"):
        SourceInfo(0, 4, 30.0, "x")
    with pytest.raises(ValueError, match="nominal_fps"):
        SourceInfo(4, 4, 0.0, "x")


class _ListSource(BaseFrameSource):
    """A real source over a list of timestamps (no device behind it)."""

    def __init__(self, timestamps: list[int]) -> None:
        super().__init__(SourceInfo(5, 4, None, "list source"))
        self.timestamps = timestamps
        self.released = False

    def _frames(self):
        for ts in self.timestamps:
            yield Frame(_rgb(), ts, "list")

    def _close(self) -> None:
        self.released = True


def test_sources_yield_increasing_frames_and_satisfy_the_protocol() -> None:
    with _ListSource([1, 2, 10]) as src:
        assert isinstance(src, FrameSource)
        assert [f.timestamp_ns for f in src] == [1, 2, 10]
    assert src.closed and src.released
    with pytest.raises(ValueError, match="closed"):
        list(src)


@pytest.mark.parametrize("timestamps", [[5, 7, 7], [5, 9, 8]])
def test_a_non_increasing_timestamp_is_an_error_naming_both_values(timestamps) -> None:
    src = _ListSource(timestamps)
    got = []
    with pytest.raises(TimestampOrderError) as err:
        for f in src:
            got.append(f.timestamp_ns)
    assert got == timestamps[:2]  # the offending frame was not yielded
    assert str(timestamps[2]) in str(err.value) and str(timestamps[1]) in str(err.value)
