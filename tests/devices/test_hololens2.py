"""HoloLens2PVSource against a real local TCP server thread that speaks the hl2ss framing: frames
encoded here with PyAV (H.264) or as raw NV12, 100-ns tick timestamps and row-vector poses; and
the errors for truncated packets, closed connections, bad payload sizes and bad payloads."""

from __future__ import annotations

import socket
import struct
import threading
from fractions import Fraction

import av
import numpy as np
import pytest

from egom2p_edge.devices import (
    Frame,
    HoloLens2PayloadError,
    HoloLens2PVSource,
    HoloLens2StreamError,
    PoseSample,
    TimestampOrderError,
)
from egom2p_edge.devices.hl2ss_protocol import pose_from_bytes, pose_to_bytes

H, W = 48, 64
T0_TICKS = 10**12  # ~28 h after boot, in 100-ns ticks
PERIOD_TICKS = 333_333  # 30 fps
FX, FY, CX, CY = 500.0, 501.5, 31.5, 23.5


class Server:
    """One-connection TCP server thread: reads ``config_bytes`` bytes the client sends first,
    then sends ``data`` and closes (or, with ``hold``, keeps the connection open until
    ``release()``)."""

    def __init__(self, data: bytes, config_bytes: int = 0, hold: bool = False) -> None:
        self.data, self.config_bytes, self.hold = data, config_bytes, hold
        self.received = b""
        self._released = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self._listener.settimeout(10)
        conn, _ = self._listener.accept()
        with conn:
            conn.settimeout(5)
            while len(self.received) < self.config_bytes:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                self.received += chunk
            conn.sendall(self.data)
            if self.hold:
                self._released.wait(10)
        self._listener.close()

    def release(self) -> None:
        self._released.set()
        self._thread.join(10)


def _images(n: int) -> list[np.ndarray]:
    """Smooth, distinct frames (H.264 keeps them close). Shape (H, W, 3) uint8 each."""
    y, x = np.mgrid[0:H, 0:W]
    out = []
    for i in range(n):
        img = np.stack([x * 3 + i * 20, y * 4, np.full_like(x, 200 - i * 25)], axis=-1)
        out.append(np.clip(img, 0, 255).astype(np.uint8))
    return out


def _h264(images: list[np.ndarray]) -> list[bytes]:
    """One Annex-B access unit per image, as a real-time hardware encoder sends them."""
    enc = av.CodecContext.create("libx264", "w")
    enc.width, enc.height, enc.pix_fmt = W, H, "yuv420p"
    enc.time_base = Fraction(1, 30)
    enc.options = {"tune": "zerolatency", "preset": "ultrafast", "crf": "12"}
    units = []
    for i, img in enumerate(images):
        vf = av.VideoFrame.from_ndarray(img, format="rgb24")
        vf.pts = i
        units += [bytes(p) for p in enc.encode(vf)]
    units += [bytes(p) for p in enc.encode(None)]
    assert len(units) == len(images)
    return units


def _metadata() -> bytes:
    """80 bytes: focal length, principal point, 60 zero bytes, width and height."""
    return struct.pack("<4f", FX, FY, CX, CY) + bytes(60) + struct.pack("<2H", W, H)


def _pose(rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = q, rng.normal(size=3)
    return T.astype(np.float32).astype(np.float64)  # representable in float32


def _packet(ticks: int, payload: bytes, T: np.ndarray | None) -> bytes:
    """Header, payload and the pose in row-vector form (translation in the last row)."""
    out = struct.pack("<QI", ticks, len(payload)) + payload
    return out if T is None else out + np.ascontiguousarray(T.T, dtype="<f4").tobytes()


def _stream(n: int, with_pose: bool = True):
    images, rng = _images(n), np.random.default_rng(0)
    poses = [_pose(rng) for _ in range(n)]
    if n > 2:
        poses[2][3, 3] = 0.0  # the server marks this pose invalid
    data = b"".join(
        _packet(T0_TICKS + i * PERIOD_TICKS, unit + _metadata(), poses[i] if with_pose else None)
        for i, unit in enumerate(_h264(images))
    )
    return images, poses, data


def test_h264_frames_timestamps_and_poses() -> None:
    images, poses, data = _stream(6)
    config = b"\x01assumed-config"
    server = Server(data, config_bytes=len(config))
    with HoloLens2PVSource("127.0.0.1", server.port, configuration=config) as src:
        events = list(src.iter_events())
    server.release()
    assert server.received == config  # sent verbatim after connecting
    frames = [e for e in events if isinstance(e, Frame)]
    pose_events = [e for e in events if isinstance(e, PoseSample)]
    assert len(frames) == len(pose_events) == 6
    for i, f in enumerate(frames):
        assert f.timestamp_ns == (T0_TICKS + i * PERIOD_TICKS) * 100
        assert f.rgb.shape == (H, W, 3)
        assert np.abs(f.rgb.astype(int) - images[i]).mean() < 4  # lossy, but this frame
        expected_valid = i != 2
        assert f.meta["pose_valid"] is expected_valid
        if expected_valid:
            np.testing.assert_array_equal(f.meta["T_world_camera"], poses[i])
            np.testing.assert_array_equal(f.meta["T_world_camera"][3], [0, 0, 0, 1])
        assert f.meta["focal_length_px"] == (FX, FY)
        assert f.meta["principal_point_px"] == (CX, CY)
        assert f.meta["metadata_resolution"] == (W, H)
        assert pose_events[i].timestamp_ns == f.timestamp_ns
        assert pose_events[i].valid is expected_valid
        if not expected_valid:
            np.testing.assert_array_equal(pose_events[i].T_world_device, np.eye(4))
    # each frame is nearer its own image than the next one's
    assert np.abs(frames[0].rgb.astype(int) - images[1]).mean() > 8


def test_raw_nv12_without_poses() -> None:
    images = _images(3)
    payloads = []
    for img in images:
        nv12 = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="nv12")
        payloads.append(nv12.to_ndarray().tobytes() + _metadata())  # (1.5 H, W) bytes
    data = b"".join(_packet(T0_TICKS + i, p, None) for i, p in enumerate(payloads))
    server = Server(data)
    with HoloLens2PVSource(
        "127.0.0.1", server.port, with_pose=False, codec="raw", width=W, height=H
    ) as src:
        frames = list(src)
    server.release()
    assert [f.timestamp_ns for f in frames] == [(T0_TICKS + i) * 100 for i in range(3)]
    for f, img in zip(frames, images):
        assert "T_world_camera" not in f.meta
        assert np.abs(f.rgb.astype(int) - img).mean() < 4  # chroma subsampling only


def _error_from(data: bytes, exc_type, hold: bool = False, **kwargs) -> str:
    server = Server(data, hold=hold)
    try:
        with pytest.raises(exc_type) as err:
            with HoloLens2PVSource("127.0.0.1", server.port, **kwargs) as src:
                list(src)
    finally:
        server.release()
    return str(err.value)


def test_truncated_payload() -> None:
    msg = _error_from(struct.pack("<QI", 5, 1000) + bytes(10), HoloLens2StreamError)
    assert "truncated payload of 1000 bytes: 10 of 1000" in msg


def test_truncated_pose() -> None:
    _, _, data = _stream(1)
    msg = _error_from(data[:-20], HoloLens2StreamError)
    assert "truncated pose: 44 of 64 bytes" in msg


def test_connection_closed_before_any_packet() -> None:
    msg = _error_from(b"", HoloLens2StreamError)
    assert "closed the connection before sending any packet" in msg


def test_absurd_payload_size() -> None:
    msg = _error_from(struct.pack("<QI", 5, 0xFFFFFFF0), HoloLens2StreamError)
    assert "4294967280 bytes" in msg and "desynchronised" in msg


def test_payload_too_small_for_metadata() -> None:
    msg = _error_from(_packet(5, bytes(50), np.eye(4)), HoloLens2PayloadError)
    assert "50 bytes" in msg and "80" in msg


def test_undecodable_payload() -> None:
    payload = b"\x00\x00\x00\x01" + b"garbage!" * 20 + _metadata()
    msg = _error_from(_packet(5, payload, np.eye(4)), HoloLens2PayloadError)
    assert "h264 decoder rejected packet 0" in msg


def test_read_timeout() -> None:
    msg = _error_from(b"", HoloLens2StreamError, hold=True, read_timeout_s=0.2)
    assert "no data for 0.2 s" in msg


def test_connection_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))  # held, so no one else can take it, but not listening
        port = s.getsockname()[1]
        with pytest.raises(HoloLens2StreamError, match=f"127.0.0.1:{port}: cannot connect"):
            HoloLens2PVSource("127.0.0.1", port, connect_timeout_s=1.0)


def test_non_increasing_timestamps_are_rejected() -> None:
    images, poses, _ = _stream(3)
    units = _h264(images)
    ticks = [100, 200, 200]
    data = b"".join(_packet(t, u + _metadata(), poses[0]) for t, u in zip(ticks, units))
    msg = _error_from(data, TimestampOrderError)
    assert "20000" in msg and "not after" in msg


def test_pose_bytes_are_row_vector_form() -> None:
    row_vector = np.arange(16, dtype="<f4").reshape(4, 4)  # translation in the last row
    T, valid = pose_from_bytes(row_vector.tobytes())
    np.testing.assert_array_equal(T[:3, 3], [12, 13, 14])
    assert valid  # [3, 3] = 15
    assert pose_from_bytes(bytes(64))[1] is False
    assert pose_to_bytes(T) == row_vector.tobytes()
    with pytest.raises(ValueError, match="64 bytes"):
        pose_from_bytes(bytes(63))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="codec"):
        HoloLens2PVSource("127.0.0.1", 1, codec="vp9")
    with pytest.raises(ValueError, match="NV12"):
        HoloLens2PVSource("127.0.0.1", 1, codec="raw", width=63, height=48)
