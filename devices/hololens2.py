"""``HoloLens2PVSource``: RGB frames and camera poses from the HoloLens 2 photo/video (PV) camera
over the hl2ss protocol (see ``hl2ss_protocol`` for the framing, the facts and the assumptions).

PV payload (facts): the encoded frame (H.264 or HEVC access unit, or raw NV12), then 80 bytes of
metadata. Each H.264/HEVC payload is decoded with PyAV as one packet; decoded frames are matched
back to their packet's timestamp and pose through the packet's PTS, so a decoder that delays or
reorders frames still stamps them correctly.

Metadata (assumed layout, not in our facts): float32 focal length (fx, fy) at bytes 0-7, float32
principal point (cx, cy) at bytes 8-15, uint16 width and height in the last 4 bytes. They go into
``Frame.meta`` with the raw 80 bytes; nothing is decoded from them (raw NV12 takes its size from
the ``width``/``height`` arguments).
"""

from __future__ import annotations

import logging
import struct
from collections import OrderedDict
from collections.abc import Iterator

import av
import numpy as np

from egom2p_edge.devices.frame import BaseFrameSource, Frame, PoseSample, SourceInfo
from egom2p_edge.devices.hl2ss_protocol import (
    MAX_PAYLOAD_BYTES,
    PORT_PV,
    Hl2Packet,
    HoloLens2StreamError,
    PacketReader,
    connect,
)

log = logging.getLogger(__name__)

__all__ = ["PV_METADATA_BYTES", "HoloLens2PayloadError", "HoloLens2PVSource", "parse_pv_metadata"]

PV_METADATA_BYTES = 80
CODECS = {"h264": "h264", "hevc": "hevc", "raw": None}  # our name -> FFmpeg decoder
MAX_PENDING = 64  # packets awaiting their decoded frame; more means the decoder drops them


class HoloLens2PayloadError(ValueError):
    """A packet arrived whole but its payload is not what the stream promises."""


def parse_pv_metadata(meta: bytes) -> dict:
    """The assumed fields of the 80-byte PV metadata (see the module docstring)."""
    if len(meta) != PV_METADATA_BYTES:
        raise ValueError(f"PV metadata: expected {PV_METADATA_BYTES} bytes, got {len(meta)}")
    fx, fy, cx, cy = struct.unpack_from("<4f", meta, 0)
    width, height = struct.unpack_from("<2H", meta, PV_METADATA_BYTES - 4)
    return {
        "focal_length_px": (fx, fy),
        "principal_point_px": (cx, cy),
        "metadata_resolution": (width, height),
        "metadata_raw": bytes(meta),
    }


class HoloLens2PVSource(BaseFrameSource):
    """Frames of the HoloLens 2 PV camera streamed by hl2ss from ``host:port``.

    ``with_pose``: the stream is in mode 1 (a pose after each payload); each frame then carries
    ``meta["T_world_camera"]`` (4, 4) and ``meta["pose_valid"]``, and ``iter_events()`` also
    yields a ``PoseSample`` per frame. ``codec``: ``"h264"``, ``"hevc"`` or ``"raw"`` (NV12 of
    ``width`` x ``height``). ``configuration``: the bytes sent after connecting (ASSUMED part of
    the protocol: hl2ss servers expect a stream configuration whose layout is not in our facts;
    default nothing; see ``hl2ss_protocol``). ``fps``: the configured rate, for ``info`` only.
    The connection opens here; errors name the host and port.
    """

    def __init__(
        self,
        host: str,
        port: int = PORT_PV,
        with_pose: bool = True,
        codec: str = "h264",
        configuration: bytes = b"",
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 10.0,
        max_payload_bytes: int = MAX_PAYLOAD_BYTES,
    ) -> None:
        if codec not in CODECS:
            raise ValueError(
                f"HoloLens2PVSource: codec must be one of {list(CODECS)}, got {codec!r}"
            )
        if codec == "raw" and not (width and height and width % 2 == 0 and height % 2 == 0):
            raise ValueError(
                f"HoloLens2PVSource: codec 'raw' (NV12) needs even width and height, got "
                f"{width} x {height}"
            )
        if read_timeout_s <= 0:
            raise ValueError(f"HoloLens2PVSource: read_timeout_s must be > 0, got {read_timeout_s}")
        self.name = f"hololens2://{host}:{port}/pv"
        super().__init__(SourceInfo(width, height, fps, f"HoloLens 2 PV camera at {host}:{port}"))
        self.codec, self.with_pose = codec, bool(with_pose)
        self._sock = connect(host, port, configuration, connect_timeout_s)
        self._sock.settimeout(read_timeout_s)
        self._reader = PacketReader(self._sock, self.name, self.with_pose, max_payload_bytes)
        self._decoder = (
            None if CODECS[codec] is None else av.CodecContext.create(CODECS[codec], "r")
        )
        self._pending: OrderedDict[int, Hl2Packet] = OrderedDict()  # PTS -> packet

    def _frame(self, rgb: np.ndarray, packet: Hl2Packet, metadata: bytes) -> Frame:
        meta = parse_pv_metadata(metadata)
        meta["timestamp_ticks"] = packet.timestamp_ticks
        if packet.T_world_device is not None:
            meta["T_world_camera"] = packet.T_world_device
            meta["pose_valid"] = packet.pose_valid
        return Frame(rgb, packet.timestamp_ns, self.name, meta)

    def _decode(self, index: int, packet: Hl2Packet | None) -> Iterator[Frame]:
        """Frames decoded after feeding ``packet`` (None: flush the decoder at the end)."""
        av_packet = None
        if packet is not None:
            av_packet = av.Packet(packet.payload[:-PV_METADATA_BYTES])
            av_packet.pts = index  # comes back on the decoded frame
            self._pending[index] = packet
            while len(self._pending) > MAX_PENDING:
                dropped, _ = self._pending.popitem(last=False)
                log.warning("%s: packet %d produced no frame; dropped", self.name, dropped)
        try:
            decoded = self._decoder.decode(av_packet)
        except av.FFmpegError as exc:
            what = (
                "flushing" if packet is None else f"packet {index} (ticks {packet.timestamp_ticks})"
            )
            raise HoloLens2PayloadError(
                f"{self.name}: the {self.codec} decoder rejected {what}: {exc}; is the stream's "
                "codec the one given to HoloLens2PVSource(codec=...)?"
            ) from exc
        for vf in decoded:
            source = self._pending.pop(vf.pts, None)
            if source is None:
                log.warning("%s: decoded a frame with unknown PTS %s; dropped", self.name, vf.pts)
                continue
            yield self._frame(
                vf.to_ndarray(format="rgb24"), source, source.payload[-PV_METADATA_BYTES:]
            )

    def _raw_frame(self, packet: Hl2Packet) -> Frame:
        w, h = self.info.width, self.info.height
        nv12 = np.frombuffer(packet.payload[:-PV_METADATA_BYTES], np.uint8)
        if nv12.size != w * h * 3 // 2:
            raise HoloLens2PayloadError(
                f"{self.name}: raw NV12 frame of {w} x {h} needs {w * h * 3 // 2} bytes, "
                f"packet has {nv12.size}; check width/height"
            )
        vf = av.VideoFrame.from_ndarray(nv12.reshape(h * 3 // 2, w), format="nv12")  # (1.5H, W)
        return self._frame(
            vf.to_ndarray(format="rgb24"), packet, packet.payload[-PV_METADATA_BYTES:]
        )

    def iter_events(self) -> Iterator[Frame | PoseSample]:
        """Frames, each followed by its ``PoseSample`` (device ``hl2_pv_camera``) in mode 1.
        An invalid pose is reported as ``valid=False`` with an identity transform (the raw
        matrix stays in ``frame.meta["T_world_camera"]``)."""
        for frame in self:
            yield frame
            if "T_world_camera" in frame.meta:
                valid = frame.meta["pose_valid"]
                T = frame.meta["T_world_camera"] if valid else np.eye(4)
                yield PoseSample(frame.timestamp_ns, T, valid, "hl2_pv_camera")

    def _frames(self) -> Iterator[Frame]:
        index = 0
        while True:
            packet = self._reader.read()
            if packet is None and index == 0:
                raise HoloLens2StreamError(
                    f"{self.name}: the server closed the connection before sending any packet; "
                    "does the configuration message match the server version (see hl2ss_protocol)?"
                )
            if packet is None:
                log.info("%s: the server closed the stream after %d packets", self.name, index)
                break
            if len(packet.payload) <= PV_METADATA_BYTES:
                raise HoloLens2PayloadError(
                    f"{self.name}: packet {index} has a payload of {len(packet.payload)} bytes, "
                    f"too small for a frame plus {PV_METADATA_BYTES} bytes of PV metadata"
                )
            if self._decoder is None:
                yield self._raw_frame(packet)
            else:
                yield from self._decode(index, packet)
            index += 1
        if self._decoder is not None:
            yield from self._decode(index, None)

    def _close(self) -> None:
        self._sock.close()
