"""Parsers for the hl2ss extended-eye-tracker (port 3817) and spatial-input (port 3812) payloads,
and ``HoloLens2SensorStream``, a client that yields the parsed samples.

Facts (DEPENDENCIES.md): the extended eye tracker sends combined/left/right gaze rays, eye
openness, vergence distance and valid bits at 30/60/90 Hz; spatial input sends valid bits, the
head position/forward/up, the eye-gaze ray and hand joints. The byte LAYOUTS below are ASSUMED
(our facts list the fields, not their offsets); each is a frozen dataclass so a different server
version can be read by passing another layout. All values are little-endian float32 unless noted.

Assumed extended-eye-tracker layout (92 bytes): a 4-byte word we skip; combined ray, left ray,
right ray (6 floats each: origin xyz, direction xyz) at 4, 28, 52; left openness, right openness,
vergence distance (m) at 76, 80, 84; uint32 valid bits at 88 (bit 0 calibration, 1 combined ray,
2 left ray, 3 right ray, 4 left openness, 5 right openness, 6 vergence). The rays are in the eye
tracker's device frame; in mode 1 the packet pose maps it to world.

Assumed spatial-input layout (>= 64 bytes): uint32 valid bits at 0 (bit 0 head, 1 eye ray,
2 left hand, 3 right hand); head position, forward, up (3 floats each, world, metres) at 4, 16,
28; eye ray origin and direction (world) at 40, 52; the hand joints follow from 64 and are kept
as raw bytes (their layout is not parsed). The head frame follows the Windows convention (x
right, y up, z backwards: ``z = -forward``).
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from egom2p_edge.devices.frame import GazeSample, PoseSample, TimestampOrderError
from egom2p_edge.devices.hl2ss_protocol import (
    MAX_PAYLOAD_BYTES,
    PORT_EXTENDED_EYE_TRACKER,
    PORT_SPATIAL_INPUT,
    Hl2Packet,
    PacketReader,
    connect,
)

log = logging.getLogger(__name__)

__all__ = [
    "EyeTrackerLayout",
    "EyeTrackerSample",
    "HoloLens2SensorStream",
    "SpatialInputLayout",
    "SpatialInputSample",
    "head_pose_from_vectors",
    "parse_eye_tracker",
    "parse_spatial_input",
]


@dataclass(frozen=True)
class EyeTrackerLayout:
    """Byte offsets of the extended-eye-tracker payload (ASSUMED; see the module docstring)."""

    combined_ray: int = 4
    left_ray: int = 28
    right_ray: int = 52
    left_openness: int = 76
    right_openness: int = 80
    vergence_distance_m: int = 84
    valid_bits: int = 88
    size: int = 92
    bit_calibration: int = 0
    bit_combined: int = 1
    bit_left: int = 2
    bit_right: int = 3


@dataclass(frozen=True)
class SpatialInputLayout:
    """Byte offsets of the spatial-input payload (ASSUMED; see the module docstring)."""

    valid_bits: int = 0
    head_position: int = 4
    head_forward: int = 16
    head_up: int = 28
    eye_origin: int = 40
    eye_direction: int = 52
    hands: int = 64
    bit_head: int = 0
    bit_eye: int = 1


@dataclass(frozen=True)
class EyeTrackerSample:
    """One extended-eye-tracker packet: three gaze rays (frame ``hl2_eet``), openness, vergence,
    the raw valid bits and, in mode 1, the eye tracker's pose (``pose``; None in mode 0)."""

    timestamp_ns: int
    combined: GazeSample
    left: GazeSample
    right: GazeSample
    left_openness: float
    right_openness: float
    vergence_distance_m: float
    calibration_valid: bool
    valid_bits: int
    pose: PoseSample | None


@dataclass(frozen=True)
class SpatialInputSample:
    """One spatial-input packet: head pose (``T_world_device`` of frame ``hl2_head``), eye ray in
    world (frame ``hl2_world``), the raw valid bits and the unparsed hand-joint bytes."""

    timestamp_ns: int
    head: PoseSample
    eye: GazeSample
    valid_bits: int
    hands_raw: bytes


def _need(payload: bytes, size: int, what: str) -> None:
    if len(payload) < size:
        raise ValueError(
            f"{what}: payload of {len(payload)} bytes is shorter than the {size} bytes of the "
            "assumed layout; pass the layout of your hl2ss server version"
        )


def _floats(payload: bytes, offset: int, n: int) -> np.ndarray:
    return np.array(struct.unpack_from(f"<{n}f", payload, offset), dtype=np.float64)


def _ray(ts: int, payload: bytes, offset: int, valid: bool, frame: str) -> GazeSample:
    r = _floats(payload, offset, 6)  # origin xyz, direction xyz
    return GazeSample(ts, valid, origin_m=r[:3], direction=r[3:], frame=frame)


def parse_eye_tracker(
    packet: Hl2Packet, layout: EyeTrackerLayout = EyeTrackerLayout()
) -> EyeTrackerSample:
    """An extended-eye-tracker packet as an EyeTrackerSample (ValueError when too short)."""
    p, ts, L = packet.payload, packet.timestamp_ns, layout
    _need(p, L.size, "extended eye tracker")
    (bits,) = struct.unpack_from("<I", p, L.valid_bits)

    def bit(b: int) -> bool:
        return bool((bits >> b) & 1)

    pose = None
    if packet.T_world_device is not None:
        T = packet.T_world_device if packet.pose_valid else np.eye(4)  # invalid: identity
        pose = PoseSample(ts, T, packet.pose_valid, "hl2_eet")
    return EyeTrackerSample(
        timestamp_ns=ts,
        combined=_ray(ts, p, L.combined_ray, bit(L.bit_combined), "hl2_eet"),
        left=_ray(ts, p, L.left_ray, bit(L.bit_left), "hl2_eet"),
        right=_ray(ts, p, L.right_ray, bit(L.bit_right), "hl2_eet"),
        left_openness=float(_floats(p, L.left_openness, 1)[0]),
        right_openness=float(_floats(p, L.right_openness, 1)[0]),
        vergence_distance_m=float(_floats(p, L.vergence_distance_m, 1)[0]),
        calibration_valid=bit(L.bit_calibration),
        valid_bits=int(bits),
        pose=pose,
    )


def head_pose_from_vectors(position, forward, up) -> np.ndarray:
    """T_world_head (4, 4) from head position, forward and up (x right, y up, z = -forward),
    re-orthonormalised (up is made orthogonal to forward)."""
    z = -np.asarray(forward, dtype=np.float64)
    y = np.asarray(up, dtype=np.float64)
    if np.linalg.norm(z) == 0 or np.linalg.norm(np.cross(y, z)) == 0:
        raise ValueError(f"head pose: forward {forward} and up {up} must be non-zero, not parallel")
    z = z / np.linalg.norm(z)
    x = np.cross(y, z)
    x /= np.linalg.norm(x)
    T = np.eye(4)
    T[:3, 0], T[:3, 1], T[:3, 2] = x, np.cross(z, x), z
    T[:3, 3] = np.asarray(position, dtype=np.float64)
    return T


def parse_spatial_input(
    packet: Hl2Packet, layout: SpatialInputLayout = SpatialInputLayout()
) -> SpatialInputSample:
    """A spatial-input packet as a SpatialInputSample (ValueError when too short)."""
    p, ts, L = packet.payload, packet.timestamp_ns, layout
    _need(p, L.hands, "spatial input")
    (bits,) = struct.unpack_from("<I", p, L.valid_bits)
    head_ok = bool((bits >> L.bit_head) & 1)
    pos, fwd, up = (_floats(p, o, 3) for o in (L.head_position, L.head_forward, L.head_up))
    T = head_pose_from_vectors(pos, fwd, up) if head_ok else np.eye(4)
    eye_ok = bool((bits >> L.bit_eye) & 1)
    return SpatialInputSample(
        timestamp_ns=ts,
        head=PoseSample(ts, T, head_ok, "hl2_head"),
        eye=GazeSample(
            ts,
            eye_ok,
            origin_m=_floats(p, L.eye_origin, 3),
            direction=_floats(p, L.eye_direction, 3),
            frame="hl2_world",
        ),
        valid_bits=int(bits),
        hands_raw=bytes(p[L.hands :]),
    )


class HoloLens2SensorStream:
    """Parsed samples of an hl2ss sensor stream: ``kind="eye_tracker"`` (port 3817, mode 1 by
    default) or ``kind="spatial_input"`` (port 3812, no pose). ``configuration``: the bytes sent
    after connecting (ASSUMED part of the protocol; see ``hl2ss_protocol``). Timestamps must be
    strictly increasing (TimestampOrderError otherwise). A context manager."""

    def __init__(
        self,
        host: str,
        kind: str = "eye_tracker",
        port: int | None = None,
        with_pose: bool | None = None,
        configuration: bytes = b"",
        layout: EyeTrackerLayout | SpatialInputLayout | None = None,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 10.0,
        max_payload_bytes: int = MAX_PAYLOAD_BYTES,
    ) -> None:
        kinds = {
            "eye_tracker": (PORT_EXTENDED_EYE_TRACKER, True, EyeTrackerLayout(), parse_eye_tracker),
            "spatial_input": (PORT_SPATIAL_INPUT, False, SpatialInputLayout(), parse_spatial_input),
        }
        if kind not in kinds:
            raise ValueError(
                f"HoloLens2SensorStream: kind must be one of {list(kinds)}, got {kind!r}"
            )
        default_port, default_pose, default_layout, self._parse = kinds[kind]
        port = default_port if port is None else port
        if layout is not None and not isinstance(layout, type(default_layout)):
            raise ValueError(
                f"HoloLens2SensorStream: kind {kind!r} needs a {type(default_layout).__name__}, "
                f"got {type(layout).__name__}"
            )
        self.layout = default_layout if layout is None else layout
        self.name = f"hololens2://{host}:{port}/{kind}"
        with_pose = default_pose if with_pose is None else bool(with_pose)
        self._sock = connect(host, port, configuration, connect_timeout_s)
        self._sock.settimeout(read_timeout_s)
        self._reader = PacketReader(self._sock, self.name, with_pose, max_payload_bytes)

    def __iter__(self) -> Iterator[EyeTrackerSample | SpatialInputSample]:
        last = None
        while (packet := self._reader.read()) is not None:
            if last is not None and packet.timestamp_ns <= last:
                raise TimestampOrderError(
                    f"{self.name}: timestamp_ns {packet.timestamp_ns} is not after the previous "
                    f"sample's {last}"
                )
            last = packet.timestamp_ns
            yield self._parse(packet, self.layout)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> HoloLens2SensorStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
