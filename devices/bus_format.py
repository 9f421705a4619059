"""The frame-bus wire format: one ZeroMQ message (a single part) per frame.

Single-part messages because ZMQ_CONFLATE (latest-frame-only subscribers) does not support
multi-part messages. All integers little-endian. The C++ twin is ``cpp/src/frame_bus.cc``.

====== ===== ============== ==========================================================
offset bytes field          meaning
====== ===== ============== ==========================================================
0      4     magic          ``b"EGMF"``
4      2     version        uint16, 1
6      2     flags          uint16: bit 0 ``FLAG_ZLIB`` (pixels zlib-compressed), bit 1
                            ``FLAG_END_OF_STREAM`` (no pixels: the publisher is closing)
8      8     timestamp_ns   int64, the frame's timestamp (device clock)
16     8     sequence       uint64, the publisher's message counter from 0 (gaps = drops)
24     4     height         uint32 pixels (0 for end of stream)
28     4     width          uint32 pixels (0 for end of stream)
32     2     channels       uint16, 3 (RGB)
34     1     dtype          uint8, 1 = uint8
35     1     source_len     uint8, bytes of the UTF-8 source name that follows (<= 255)
36     4     payload_size   uint32, bytes of the payload after the source name
40     n     source         UTF-8 source name (``Frame.source``), ``source_len`` bytes
40+n   p     payload        pixels, row-major (H, W, C), RGB, or their zlib stream
====== ===== ============== ==========================================================

The message is exactly ``40 + source_len + payload_size`` bytes; an uncompressed payload is
exactly ``height * width * channels`` bytes. The C++ subscriber does not link zlib and rejects
compressed frames with a message saying so: publish uncompressed for C++ consumers.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

from egom2p_edge.devices.frame import Frame

__all__ = [
    "FLAG_END_OF_STREAM",
    "FLAG_ZLIB",
    "HEADER",
    "MAGIC",
    "VERSION",
    "BusMessage",
    "decode_message",
    "encode_end_of_stream",
    "encode_frame",
]

MAGIC = b"EGMF"
VERSION = 1
HEADER = struct.Struct("<4sHHqQIIHBBI")  # 40 bytes, the table above
FLAG_ZLIB = 1
FLAG_END_OF_STREAM = 2
DTYPE_UINT8 = 1
KNOWN_FLAGS = FLAG_ZLIB | FLAG_END_OF_STREAM


@dataclass(frozen=True)
class BusMessage:
    """A decoded message: a frame (None for end of stream), its sequence number and flags."""

    frame: Frame | None
    sequence: int
    source: str
    end_of_stream: bool
    compressed: bool


def _source_bytes(source: str) -> bytes:
    b = source.encode("utf-8")
    if len(b) > 255:
        raise ValueError(f"frame bus: source name is {len(b)} bytes in UTF-8, at most 255 allowed")
    return b


def encode_frame(frame: Frame, sequence: int, compress: bool = False, level: int = 1) -> bytes:
    """``frame`` as one message (pixels zlib-compressed at ``level`` when ``compress``)."""
    if not 0 <= sequence < 2**64:
        raise ValueError(f"frame bus: sequence must be in [0, 2**64), got {sequence}")
    h, w, c = frame.rgb.shape
    pixels = frame.rgb.tobytes()  # row-major (H, W, C)
    payload = zlib.compress(pixels, level) if compress else pixels
    src = _source_bytes(frame.source)
    flags = FLAG_ZLIB if compress else 0
    header = HEADER.pack(
        MAGIC,
        VERSION,
        flags,
        frame.timestamp_ns,
        sequence,
        h,
        w,
        c,
        DTYPE_UINT8,
        len(src),
        len(payload),
    )
    return b"".join((header, src, payload))


def encode_end_of_stream(sequence: int, source: str, timestamp_ns: int = 0) -> bytes:
    """The message a publisher sends when it closes (no pixels)."""
    src = _source_bytes(source)
    header = HEADER.pack(
        MAGIC,
        VERSION,
        FLAG_END_OF_STREAM,
        timestamp_ns,
        sequence,
        0,
        0,
        3,
        DTYPE_UINT8,
        len(src),
        0,
    )
    return header + src


def _fail(field: str, expected: str, got: object) -> ValueError:
    return ValueError(f"frame bus message: {field}: expected {expected}, got {got}")


def decode_message(buf: bytes | memoryview) -> BusMessage:
    """Parse one message; ValueError naming the field for anything malformed. The frame's
    ``rgb`` is a read-only view of ``buf`` when uncompressed (copy it to modify it)."""
    buf = memoryview(buf).cast("B")
    if len(buf) < HEADER.size:
        raise _fail("length", f">= {HEADER.size} bytes (the header)", f"{len(buf)} bytes")
    magic, version, flags, ts, seq, h, w, c, dtype, src_len, size = HEADER.unpack_from(buf, 0)
    if magic != MAGIC:
        raise _fail("magic", repr(MAGIC) + " (is this an egom2p frame-bus publisher?)", magic)
    if version != VERSION:
        raise _fail("version", f"{VERSION} (upgrade the older side)", version)
    if flags & ~KNOWN_FLAGS:
        raise _fail("flags", f"only bits {KNOWN_FLAGS:#x}", f"{flags:#x}")
    if len(buf) != HEADER.size + src_len + size:
        raise _fail(
            "length",
            f"{HEADER.size} + {src_len} + {size} bytes (header + source + payload)",
            f"{len(buf)} bytes (truncated or padded message)",
        )
    try:
        source = bytes(buf[HEADER.size : HEADER.size + src_len]).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail("source", "UTF-8", f"undecodable bytes ({exc})") from None
    if flags & FLAG_END_OF_STREAM:
        return BusMessage(None, seq, source, True, False)
    if dtype != DTYPE_UINT8:
        raise _fail("dtype", f"{DTYPE_UINT8} (uint8)", dtype)
    if c != 3 or h == 0 or w == 0:
        raise _fail("shape", "(H > 0, W > 0, 3)", (h, w, c))
    payload = buf[HEADER.size + src_len :]
    compressed = bool(flags & FLAG_ZLIB)
    if compressed:
        try:
            payload = memoryview(zlib.decompress(payload))
        except zlib.error as exc:
            raise _fail(
                "payload", "a zlib stream (flag ZLIB is set)", f"corrupt data ({exc})"
            ) from None
    if len(payload) != h * w * c:
        raise _fail(
            "payload", f"{h} * {w} * {c} = {h * w * c} pixel bytes", f"{len(payload)} bytes"
        )
    rgb = np.frombuffer(payload, dtype=np.uint8).reshape(h, w, c)  # (H, W, 3)
    return BusMessage(Frame(rgb, ts, source, {"sequence": seq}), seq, source, False, compressed)
