"""The ZeroMQ frame bus in Python: the wire format (byte by byte from its documented table),
malformed messages, and publisher -> subscriber over real tcp:// and inproc:// sockets."""

from __future__ import annotations

import struct
import threading
import time

import numpy as np
import pytest
import zmq

from egom2p_edge.devices import (
    Frame,
    FramePublisher,
    FrameSource,
    FrameSubscriber,
    TimestampOrderError,
)
from egom2p_edge.devices.bus_format import decode_message, encode_end_of_stream, encode_frame


def _frame(i: int, h: int = 6, w: int = 8, source: str = "cam") -> Frame:
    rgb = ((np.arange(h * w * 3) * 7 + i * 31) % 256).astype(np.uint8).reshape(h, w, 3)
    return Frame(rgb, 1_000 + 40_000_000 * i, source)


def test_header_follows_the_documented_table() -> None:
    f = Frame(np.arange(6, dtype=np.uint8).reshape(1, 2, 3), 0x0102030405060708, "ab")
    msg = encode_frame(f, sequence=5)
    assert len(msg) == 40 + 2 + 6
    assert msg[0:4] == b"EGMF"
    assert struct.unpack_from("<HH", msg, 4) == (1, 0)  # version, flags
    assert msg[8:16] == bytes([8, 7, 6, 5, 4, 3, 2, 1])  # little-endian int64
    assert struct.unpack_from("<QIIHBBI", msg, 16) == (5, 1, 2, 3, 1, 2, 6)
    assert msg[40:42] == b"ab" and msg[42:] == bytes(range(6))


def test_round_trip_raw_and_compressed() -> None:
    f = _frame(3, source="vidéo")  # a non-ASCII source name
    for compress in (False, True):
        msg = decode_message(encode_frame(f, 9, compress=compress))
        assert msg.compressed is compress and msg.sequence == 9 and not msg.end_of_stream
        np.testing.assert_array_equal(msg.frame.rgb, f.rgb)
        assert (msg.frame.timestamp_ns, msg.frame.source) == (f.timestamp_ns, "vidéo")
    flat = Frame(np.zeros((64, 64, 3), np.uint8), 0, "x")
    assert len(encode_frame(flat, 0, compress=True)) < len(encode_frame(flat, 0)) / 10
    end = decode_message(encode_end_of_stream(4, "cam"))
    assert end.end_of_stream and end.frame is None and end.sequence == 4


def _corrupt(offset: int, value: bytes, cut: int | None = None) -> bytes:
    msg = bytearray(encode_frame(_frame(0, 2, 3), 0))
    msg[offset : offset + len(value)] = value
    return bytes(msg[:cut] if cut is not None else msg)


@pytest.mark.parametrize(
    "message, field",
    [
        (b"EGMF", "length"),
        (_corrupt(0, b"XXXX"), "magic"),
        (_corrupt(4, b"\x02"), "version"),
        (_corrupt(6, b"\x80"), "flags"),
        (_corrupt(34, b"\x02"), "dtype"),
        (_corrupt(32, b"\x04"), "shape"),
        (_corrupt(24, b"\x03"), "payload"),
        (_corrupt(6, b"\x01"), "zlib"),
        (_corrupt(0, b"", cut=50), "truncated"),
        (_corrupt(40, b"\xff"), "UTF-8"),
    ],
)
def test_malformed_messages_name_the_field(message: bytes, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        decode_message(message)


def test_source_names_longer_than_255_bytes_are_refused() -> None:
    with pytest.raises(ValueError, match="255"):
        encode_frame(_frame(0, source="x" * 256), 0)


@pytest.mark.parametrize("endpoint", ["tcp://127.0.0.1:*", "inproc://bus-test"])
def test_every_frame_arrives_after_the_handshake(endpoint: str) -> None:
    ctx = zmq.Context()
    try:
        pub = FramePublisher(endpoint, lossless=True, context=ctx)
        with FrameSubscriber(pub.endpoint, timeout_s=5, context=ctx) as sub:
            assert isinstance(sub, FrameSource)
            assert pub.wait_for_subscribers(1, timeout_s=5) == 1
            sent = [_frame(i) for i in range(20)]
            for f in sent:  # published at once: no delay hides a slow joiner
                pub.publish(f)
            pub.close()
            got = list(sub)  # ends at the end-of-stream message
            assert sub.ended and sub.frames_dropped == 0
        assert [f.meta["sequence"] for f in got] == list(range(20))
        for a, b in zip(sent, got):
            assert a.timestamp_ns == b.timestamp_ns and a.source == b.source
            np.testing.assert_array_equal(a.rgb, b.rgb)
    finally:
        ctx.term()


def test_compressed_frames_and_two_subscribers() -> None:
    with FramePublisher("tcp://127.0.0.1:*", compress=True, lossless=True) as pub:
        subs = [FrameSubscriber(pub.endpoint, timeout_s=5) for _ in range(2)]
        pub.wait_for_subscribers(2, timeout_s=5)
        for i in range(5):
            pub.publish(_frame(i, 32, 32))
    for sub in subs:
        got = list(sub)
        sub.close()
        assert [f.timestamp_ns for f in got] == [_frame(i).timestamp_ns for i in range(5)]
        np.testing.assert_array_equal(got[4].rgb, _frame(4, 32, 32).rgb)


def test_latest_only_keeps_the_newest_frame() -> None:
    with FramePublisher("tcp://127.0.0.1:*") as pub:
        with FrameSubscriber(pub.endpoint, latest_only=True) as sub:
            pub.wait_for_subscribers(1, timeout_s=5)
            pub.publish(_frame(0))
            assert sub.recv(timeout_s=5).meta["sequence"] == 0  # gaps count from here
            for i in range(1, 11):
                pub.publish(_frame(i))
            time.sleep(0.3)  # let them all arrive before reading
            got = []
            while not got or got[-1] != 10:  # until the newest (a busy machine may be slow)
                f = sub.recv(timeout_s=5)
                assert f is not None, f"frame 10 never arrived after {got}"
                got.append(f.meta["sequence"])
            assert sub.recv(timeout_s=0.1) is None  # and nothing after it
            assert len(got) < 10
            assert sub.frames_dropped == 10 - len(got)


def test_publisher_rules() -> None:
    with FramePublisher("tcp://127.0.0.1:*") as pub:
        with pytest.raises(TimeoutError, match="0 of 1 subscribers"):
            pub.wait_for_subscribers(1, timeout_s=0.05)
        pub.publish(_frame(1))
        with pytest.raises(TimestampOrderError, match=str(_frame(1).timestamp_ns)):
            pub.publish(_frame(1))
        with pytest.raises(ValueError, match="expected a Frame"):
            pub.publish(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ValueError, match="publish\\(\\) after close"):
        pub.publish(_frame(2))
    with FramePublisher("tcp://127.0.0.1:*", conflate=True) as conflating:
        with pytest.raises(ValueError, match="CONFLATE on XPUB"):
            conflating.wait_for_subscribers(1)
    with FrameSubscriber("tcp://127.0.0.1:*", bind=True) as bound:
        with FramePublisher(bound.endpoint, bind=False) as connecting:
            with pytest.raises(ValueError, match="bind the publisher"):
                connecting.wait_for_subscribers(1)
    with pytest.raises(ValueError, match="nonsense://x"):
        FramePublisher("nonsense://x")
    with pytest.raises(ValueError, match="nonsense://x"):
        FrameSubscriber("nonsense://x")


def test_subscriber_timeout_and_out_of_order_frames() -> None:
    ctx = zmq.Context()
    raw = ctx.socket(zmq.PUB)  # a publisher that breaks the rules, written with pyzmq
    port = raw.bind_to_random_port("tcp://127.0.0.1")
    try:
        with FrameSubscriber(f"tcp://127.0.0.1:{port}", timeout_s=0.1) as sub:
            with pytest.raises(TimeoutError, match="no message for 0.1 s"):
                list(sub)
        sub = FrameSubscriber(f"tcp://127.0.0.1:{port}", timeout_s=5)
        stop = threading.Event()

        def spam() -> None:  # repeat until the slow joiner has joined
            while not stop.is_set():
                raw.send(encode_frame(_frame(2), 0))
                raw.send(encode_frame(_frame(1), 1))
                time.sleep(0.01)

        t = threading.Thread(target=spam, daemon=True)
        t.start()
        try:
            with pytest.raises(TimestampOrderError, match="not after"):
                list(sub)
        finally:
            stop.set()
            t.join()
            sub.close()
    finally:
        raw.close(0)
        ctx.term()


def test_default_publisher_drops_when_full_and_the_subscriber_counts_the_gaps() -> None:
    got: list[int] = []
    with FramePublisher("tcp://127.0.0.1:*", sndhwm=2) as pub:
        with FrameSubscriber(pub.endpoint, rcvhwm=2, timeout_s=5) as sub:
            pub.wait_for_subscribers(1, timeout_s=5)
            # The consumer starts after the whole burst was offered: two frames each side plus the
            # kernel's TCP buffers hold far fewer than 300 frames of 192 KiB, so some must drop
            # however fast this machine is (a reader racing the burst sometimes kept up).
            sent = [pub.publish(_frame(i, 256, 256)) for i in range(300)]
            reader = threading.Thread(target=lambda: got.extend(f.meta["sequence"] for f in sub))
            reader.start()
            pub.close()  # the end-of-stream message waits for room: it is not dropped
            reader.join(10)
    assert sub.ended and got[0] == 0 and got == sorted(got) and len(got) < 300
    assert got == [i for i in range(300) if sent[i]]  # exactly the frames publish() sent
    assert pub.frames_dropped == sub.frames_dropped == 300 - len(got)


def test_lossless_publisher_times_out_on_a_stuck_subscriber() -> None:
    with FramePublisher("tcp://127.0.0.1:*", sndhwm=1, lossless=True, send_timeout_s=0.2) as pub:
        with FrameSubscriber(pub.endpoint, rcvhwm=1):  # never reads
            pub.wait_for_subscribers(1, timeout_s=5)
            with pytest.raises(TimeoutError, match="queue stayed full"):
                for i in range(200):  # 1 MB each: the TCP buffers fill up first
                    pub.publish(_frame(i, 512, 683))
            pub.close(end_of_stream=False)
    with pytest.raises(ValueError, match="contradicts"):
        FramePublisher("tcp://127.0.0.1:*", conflate=True, lossless=True)


def test_endpoints_that_cannot_be_used_name_the_side_and_the_endpoint() -> None:
    with pytest.raises(ValueError, match=r"FramePublisher: cannot bind 'tcp://nohost:1'"):
        FramePublisher("tcp://nohost:1")
    with pytest.raises(ValueError, match=r"FrameSubscriber: cannot connect 'bogus://x'"):
        FrameSubscriber("bogus://x")
    pub = FramePublisher("tcp://127.0.0.1:*")  # a port in use by the first binder
    try:
        with pytest.raises(ValueError, match=r"FrameSubscriber: cannot bind 'tcp://127.0.0.1:"):
            FrameSubscriber(pub.endpoint, bind=True)
    finally:
        pub.close()
