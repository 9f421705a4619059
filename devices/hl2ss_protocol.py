"""Our own client for the hl2ss HoloLens 2 streaming protocol: connection, packet framing, poses.

What we rely on (the facts in DEPENDENCIES.md, "HoloLens 2"):

- Plain TCP, one port per stream: ``PORT_PV`` 3810 (photo/video camera), ``PORT_SPATIAL_INPUT``
  3812, ``PORT_EXTENDED_EYE_TRACKER`` 3817.
- A packet is a 12-byte little-endian header ``<Q timestamp><I payload_size>``, then
  ``payload_size`` bytes of payload, then, in mode 1 (``with_pose=True``), a 64-byte pose.
  The timestamp counts 100-ns ticks (``timestamp_ns = ticks * 100``).
- The pose is a float32 4x4 matrix in row-vector convention (translation in the last row); we
  transpose it into ``T_world_device`` (column vectors). It is valid when its [3, 3] element is
  not 0 (an invalid pose is reported, not hidden).

What we assume (not in our facts; overridable):

- ``payload_size`` counts the payload only, not the pose that follows it in mode 1.
- The **configuration message**: an hl2ss server expects the client to send a stream
  configuration (mode, resolution, codec settings, ...) right after connecting. Its bytes depend
  on the stream and the server version and are NOT in our facts, so ``connect`` sends exactly
  the ``configuration`` bytes it is given (default: nothing, which suits servers and relays that
  stream on connect, and our tests). Build the message your server version documents and pass it.
"""

from __future__ import annotations

import logging
import socket
import struct
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

__all__ = [
    "HEADER",
    "MAX_PAYLOAD_BYTES",
    "PORT_EXTENDED_EYE_TRACKER",
    "PORT_PV",
    "PORT_SPATIAL_INPUT",
    "POSE_BYTES",
    "HoloLens2StreamError",
    "Hl2Packet",
    "PacketReader",
    "connect",
    "pack_packet",
    "pose_from_bytes",
    "pose_to_bytes",
    "ticks_to_ns",
]

PORT_PV = 3810
PORT_SPATIAL_INPUT = 3812
PORT_EXTENDED_EYE_TRACKER = 3817
HEADER = struct.Struct("<QI")  # timestamp (100-ns ticks), payload size (bytes)
POSE_BYTES = 64  # float32 4x4, row-vector convention
NS_PER_TICK = 100
MAX_PAYLOAD_BYTES = 64 * 1024 * 1024  # far above any frame: larger sizes mean a desynced stream


class HoloLens2StreamError(ConnectionError):
    """The connection failed or broke (refused, closed, truncated packet, desynchronised)."""


def ticks_to_ns(ticks: int) -> int:
    """hl2ss timestamps (100-ns ticks) as nanoseconds."""
    return int(ticks) * NS_PER_TICK


def pose_from_bytes(buf: bytes) -> tuple[np.ndarray, bool]:
    """The 64-byte pose as (T_world_device (4, 4) float64 column-vector form, valid)."""
    if len(buf) != POSE_BYTES:
        raise ValueError(f"hl2ss pose: expected {POSE_BYTES} bytes, got {len(buf)}")
    row_vector = np.frombuffer(buf, dtype="<f4").reshape(4, 4)  # (4, 4), translation in row 3
    T = row_vector.T.astype(np.float64)  # column vectors: translation in column 3
    return T, bool(row_vector[3, 3] != 0)


def pose_to_bytes(T_world_device: np.ndarray) -> bytes:
    """Inverse of ``pose_from_bytes`` (for servers, relays and tests)."""
    T = np.asarray(T_world_device, dtype=np.float64)
    if T.shape != (4, 4):
        raise ValueError(f"hl2ss pose: T_world_device must be (4, 4), got {T.shape}")
    return np.ascontiguousarray(T.T, dtype="<f4").tobytes()


def pack_packet(timestamp_ticks: int, payload: bytes, T_world_device: np.ndarray | None) -> bytes:
    """One packet as a server sends it (header, payload, pose when given)."""
    out = HEADER.pack(int(timestamp_ticks), len(payload)) + bytes(payload)
    return out if T_world_device is None else out + pose_to_bytes(T_world_device)


@dataclass(frozen=True)
class Hl2Packet:
    """One received packet. ``T_world_device``: Shape (4, 4) float64 or None without a pose
    (mode 0); ``pose_valid`` False when the pose's [3, 3] element is 0."""

    timestamp_ticks: int
    payload: bytes
    T_world_device: np.ndarray | None = None
    pose_valid: bool = False

    @property
    def timestamp_ns(self) -> int:
        return ticks_to_ns(self.timestamp_ticks)


def connect(
    host: str, port: int, configuration: bytes = b"", timeout_s: float = 5.0
) -> socket.socket:
    """A TCP connection to an hl2ss stream, with ``configuration`` sent (see the module doc)."""
    if not isinstance(configuration, (bytes, bytearray)):
        raise ValueError(f"hl2ss configuration must be bytes, got {type(configuration).__name__}")
    try:
        sock = socket.create_connection((host, int(port)), timeout=timeout_s)
    except OSError as exc:
        raise HoloLens2StreamError(
            f"hl2ss {host}:{port}: cannot connect ({exc}); is the hl2ss app running on the "
            "headset, and are the address and port right (PV 3810, spatial input 3812, extended "
            "eye tracker 3817)?"
        ) from exc
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if configuration:
        sock.sendall(bytes(configuration))
    return sock


class PacketReader:
    """Reads packets from a connected socket. ``read()`` returns None when the server closes the
    connection between packets; a close inside a packet, a read timeout, or a payload size above
    ``max_payload_bytes`` raise HoloLens2StreamError naming the stream and the byte counts."""

    def __init__(
        self,
        sock: socket.socket,
        name: str,
        with_pose: bool,
        max_payload_bytes: int = MAX_PAYLOAD_BYTES,
    ) -> None:
        if max_payload_bytes < 1:
            raise ValueError(f"max_payload_bytes must be >= 1, got {max_payload_bytes}")
        self._sock, self.name = sock, name
        self.with_pose, self.max_payload_bytes = bool(with_pose), int(max_payload_bytes)
        self.packets_read = 0

    def _recv_exact(self, n: int, what: str, allow_eof: bool = False) -> bytes | None:
        buf = bytearray(n)
        view, got = memoryview(buf), 0
        while got < n:
            try:
                k = self._sock.recv_into(view[got:], n - got)
            except TimeoutError as exc:
                raise HoloLens2StreamError(
                    f"{self.name}: no data for {self._sock.gettimeout()} s while reading {what} "
                    f"({got} of {n} bytes) after {self.packets_read} packets"
                ) from exc
            except OSError as exc:
                raise HoloLens2StreamError(f"{self.name}: connection error ({exc})") from exc
            if k == 0:
                if allow_eof and got == 0:
                    return None
                raise HoloLens2StreamError(
                    f"{self.name}: the connection closed inside packet {self.packets_read} "
                    f"(truncated {what}: {got} of {n} bytes received)"
                )
            got += k
        return bytes(buf)

    def read(self) -> Hl2Packet | None:
        """The next packet, or None at a clean end of stream."""
        head = self._recv_exact(HEADER.size, "header", allow_eof=True)
        if head is None:
            return None
        ticks, size = HEADER.unpack(head)
        if size > self.max_payload_bytes:
            raise HoloLens2StreamError(
                f"{self.name}: packet {self.packets_read} announces a payload of {size} bytes, "
                f"above the limit of {self.max_payload_bytes}: the stream is desynchronised or "
                "the client's mode (with_pose) does not match the server's"
            )
        payload = self._recv_exact(size, f"payload of {size} bytes")
        T, valid = None, False
        if self.with_pose:
            T, valid = pose_from_bytes(self._recv_exact(POSE_BYTES, "pose"))
        self.packets_read += 1
        return Hl2Packet(ticks, payload, T, valid)
