"""The extended-eye-tracker and spatial-input parsers (on payloads packed here from the
documented, assumed layouts) and HoloLens2SensorStream over a real local TCP connection."""

from __future__ import annotations

import socket
import struct
import threading

import numpy as np
import pytest

from egom2p_edge.devices import HoloLens2SensorStream, TimestampOrderError
from egom2p_edge.devices.hl2ss_protocol import Hl2Packet
from egom2p_edge.devices.hl2ss_sensors import (
    EyeTrackerLayout,
    head_pose_from_vectors,
    parse_eye_tracker,
    parse_spatial_input,
)

COMBINED = [0.0, 0.1, 0.0, 0.0, 0.0, -1.0]
LEFT = [-0.03, 0.1, 0.0, 0.1, 0.0, -0.995]
RIGHT = [0.03, 0.1, 0.0, -0.1, 0.0, -0.995]


def _eet_payload(valid_bits: int, vergence_m: float = 1.25) -> bytes:
    """The assumed 92-byte layout: skipped word, 3 rays, openness x2, vergence, valid bits."""
    return (
        bytes(4)
        + struct.pack("<18f", *COMBINED, *LEFT, *RIGHT)
        + struct.pack("<3f", 0.75, 0.5, vergence_m)
        + struct.pack("<I", valid_bits)
    )


def _si_payload(valid_bits: int, hands: bytes = b"\x07" * 20) -> bytes:
    """The assumed layout: valid bits, head position/forward/up, eye origin/direction, hands."""
    head = [1.0, 1.6, 2.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]  # at (1, 1.6, 2), facing +x, y up
    eye = [1.0, 1.6, 2.0, 0.8, -0.6, 0.0]
    return struct.pack("<I", valid_bits) + struct.pack("<15f", *head, *eye) + hands


def test_eye_tracker_fields_and_valid_bits() -> None:
    T = np.eye(4)
    T[:3, 3] = (1, 2, 3)
    s = parse_eye_tracker(Hl2Packet(7, _eet_payload(0b0000101), T, True))
    assert s.timestamp_ns == 700
    np.testing.assert_allclose(s.combined.origin_m, COMBINED[:3], atol=1e-7)
    np.testing.assert_allclose(s.left.direction, LEFT[3:], atol=1e-7)
    np.testing.assert_allclose(s.right.origin_m, RIGHT[:3], atol=1e-7)
    assert (s.left_openness, s.right_openness, s.vergence_distance_m) == (0.75, 0.5, 1.25)
    assert s.calibration_valid and not s.combined.valid and s.left.valid and not s.right.valid
    assert s.valid_bits == 5 and s.combined.frame == "hl2_eet"
    assert s.pose is not None and s.pose.valid
    np.testing.assert_array_equal(s.pose.T_world_device, T)
    assert parse_eye_tracker(Hl2Packet(7, _eet_payload(0))).pose is None  # mode 0


def test_eye_tracker_layout_is_overridable_and_length_checked() -> None:
    with pytest.raises(ValueError, match="shorter than the 92 bytes"):
        parse_eye_tracker(Hl2Packet(1, bytes(40)))
    shifted = EyeTrackerLayout(
        combined_ray=0,
        left_ray=24,
        right_ray=48,
        left_openness=72,
        right_openness=76,
        vergence_distance_m=80,
        valid_bits=84,
        size=88,
    )
    s = parse_eye_tracker(Hl2Packet(1, _eet_payload(2)[4:]), shifted)  # no leading word
    assert s.combined.valid and s.vergence_distance_m == 1.25


def test_head_pose_from_vectors_known_answers() -> None:
    # Facing -z with y up is the identity (Windows: z points backwards).
    np.testing.assert_allclose(head_pose_from_vectors([0, 0, 0], [0, 0, -1], [0, 1, 0]), np.eye(4))
    # Facing +x (a right turn of 90 degrees): the head's right (x) axis points along +z.
    T = head_pose_from_vectors([1, 2, 3], [1, 0, 0], [0, 1, 0])
    np.testing.assert_allclose(T[:3, 0], [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(T[:3, 2], [-1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(T[:3, 3], [1, 2, 3])
    # A slightly tilted up vector is made orthogonal.
    R = head_pose_from_vectors([0, 0, 0], [0, 0, -1], [0.1, 1, 0.2])[:3, :3]
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="parallel"):
        head_pose_from_vectors([0, 0, 0], [0, 1, 0], [0, 1, 0])


def test_spatial_input_head_and_eye() -> None:
    s = parse_spatial_input(Hl2Packet(3, _si_payload(0b11)))
    assert s.timestamp_ns == 300 and s.valid_bits == 3
    assert s.head.valid and s.head.device == "hl2_head"
    np.testing.assert_allclose(s.head.T_world_device[:3, 3], [1, 1.6, 2], atol=1e-6)
    np.testing.assert_allclose(s.head.T_world_device[:3, 2], [-1, 0, 0], atol=1e-6)  # -forward
    assert s.eye.valid and s.eye.frame == "hl2_world"
    np.testing.assert_allclose(s.eye.direction, [0.8, -0.6, 0], atol=1e-6)
    assert s.hands_raw == b"\x07" * 20
    no_head = parse_spatial_input(Hl2Packet(3, _si_payload(0b10)))
    assert not no_head.head.valid and no_head.eye.valid
    with pytest.raises(ValueError, match="spatial input"):
        parse_spatial_input(Hl2Packet(3, bytes(10)))


def _serve(data: bytes) -> int:
    listener = socket.create_server(("127.0.0.1", 0))

    def run() -> None:
        listener.settimeout(10)
        conn, _ = listener.accept()
        with conn:
            conn.sendall(data)
        listener.close()

    threading.Thread(target=run, daemon=True).start()
    return listener.getsockname()[1]


def _packet(ticks: int, payload: bytes, T: np.ndarray | None) -> bytes:
    out = struct.pack("<QI", ticks, len(payload)) + payload
    return out if T is None else out + np.ascontiguousarray(T.T, dtype="<f4").tobytes()


def test_eye_tracker_stream_over_tcp() -> None:
    T = np.eye(4)
    T[:3, 3] = (0.5, 0.25, -1)
    data = b"".join(_packet(1000 + 111_111 * i, _eet_payload(0x7F), T) for i in range(4))
    with HoloLens2SensorStream("127.0.0.1", "eye_tracker", port=_serve(data)) as stream:
        samples = list(stream)
    assert [s.timestamp_ns for s in samples] == [(1000 + 111_111 * i) * 100 for i in range(4)]
    assert all(s.combined.valid and s.pose.valid for s in samples)
    np.testing.assert_array_equal(samples[-1].pose.T_world_device[:3, 3], [0.5, 0.25, -1])


def test_spatial_input_stream_over_tcp_rejects_repeated_timestamps() -> None:
    data = b"".join(_packet(t, _si_payload(1), None) for t in (5, 6, 6))
    with HoloLens2SensorStream("127.0.0.1", "spatial_input", port=_serve(data)) as stream:
        with pytest.raises(TimestampOrderError, match="600"):
            list(stream)


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="kind"):
        HoloLens2SensorStream("127.0.0.1", "magnetometer", port=1)
