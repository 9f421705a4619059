"""The C++ frame bus against the Python one: the two codecs agree byte for byte, and frames cross
real TCP sockets from Python (pyzmq's bundled libzmq) to C++ (Debian's libzmq) and back."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import zmq

from egom2p_edge.devices import Frame, FramePublisher, FrameSubscriber
from egom2p_edge.devices.bus_format import encode_end_of_stream, encode_frame


@pytest.fixture(scope="module")
def rt():
    from egom2p_edge._native import RuntimeNotBuiltError, load_runtime

    try:
        runtime = load_runtime()
    except RuntimeNotBuiltError as exc:
        pytest.skip(f"the C++ runtime is not built: {exc}")
    if not hasattr(runtime, "FrameBusSubscriber"):
        pytest.fail("egom2p_edge._runtime predates the frame bus; rebuild: pip install -e .")
    return runtime


@pytest.fixture(scope="module")
def rt_zmq(rt):
    if not rt.build_info()["zeromq"]:
        pytest.skip("the C++ runtime was built without ZeroMQ (install libzmq3-dev cppzmq-dev)")
    return rt


def _frame(i: int, h: int = 5, w: int = 7, source: str = "py") -> Frame:
    rng = np.random.default_rng(i)
    return Frame(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), 10**15 + 33_333_333 * i, source)


def test_the_codecs_agree_byte_for_byte(rt) -> None:
    for i, (h, w, source) in enumerate([(1, 1, ""), (5, 7, "py"), (31, 2, "hololens2://x/pv")]):
        f = _frame(i, h, w, source)
        cpp = rt.encode_frame_message(f.rgb, f.timestamp_ns, sequence=i + 7, source=source)
        assert cpp == encode_frame(f, i + 7)
        d = rt.decode_frame_message(encode_frame(f, i + 7))
        assert (d["timestamp_ns"], d["sequence"], d["source"]) == (f.timestamp_ns, i + 7, source)
        np.testing.assert_array_equal(d["rgb"], f.rgb)
    end = rt.encode_frame_message(None, 0, sequence=3, source="py", end_of_stream=True)
    assert end == encode_end_of_stream(3, "py")
    assert rt.decode_frame_message(end)["end_of_stream"] is True


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda b: b"XXXX" + b[4:], "magic"),
        (lambda b: b[:50], "truncated"),
        (lambda b: b[:6] + b"\x01" + b[7:], "zlib"),
    ],
)
def test_cpp_decoder_errors_name_the_field(rt, mutate, field) -> None:
    with pytest.raises(ValueError, match=field):
        rt.decode_frame_message(mutate(encode_frame(_frame(0), 0)))


def test_python_compressed_frames_are_refused_by_cpp_with_a_hint(rt) -> None:
    with pytest.raises(ValueError, match="compress=False"):
        rt.decode_frame_message(encode_frame(_frame(0), 0, compress=True))


def test_python_publisher_to_cpp_subscriber(rt_zmq) -> None:
    with FramePublisher("tcp://127.0.0.1:*", lossless=True) as pub:
        # Room for the whole burst on the receiving side: nothing waits on a busy machine.
        sub = rt_zmq.FrameBusSubscriber(pub.endpoint, rcvhwm=64)
        pub.wait_for_subscribers(1, timeout_s=5)  # the C++ SUB's subscription reached Python
        sent = [_frame(i, 48, 64) for i in range(25)]
        for f in sent:
            pub.publish(f)
    got = []
    while (msg := sub.receive(timeout_ms=5000)) is not None and not msg["end_of_stream"]:
        got.append(msg)
    assert msg is not None and msg["end_of_stream"]  # the end arrived, nothing timed out
    assert [m["sequence"] for m in got] == list(range(25))
    for f, m in zip(sent, got):
        assert m["timestamp_ns"] == f.timestamp_ns and m["source"] == "py"
        np.testing.assert_array_equal(m["rgb"], f.rgb)
    assert sub.frames_received == 25 and sub.frames_dropped == 0


def test_cpp_publisher_to_python_subscriber(rt_zmq) -> None:
    pub = rt_zmq.FrameBusPublisher("tcp://127.0.0.1:*", lossless=True)
    with FrameSubscriber(pub.endpoint, timeout_s=5) as sub:
        pub.wait_for_subscribers(1, 5000)
        sent = [_frame(i, 16, 16) for i in range(10)]
        got: list[Frame] = []
        reader = threading.Thread(target=lambda: got.extend(sub))
        reader.start()
        for f in sent:
            assert pub.publish(f.rgb, f.timestamp_ns, "cpp") is True
        pub.close()
        reader.join(10)
    assert sub.ended and len(got) == 10
    for f, g in zip(sent, got):
        assert g.timestamp_ns == f.timestamp_ns and g.source == "cpp"
        np.testing.assert_array_equal(g.rgb, f.rgb)


def test_cpp_subscriber_rejects_out_of_order_frames_and_bad_endpoints(rt_zmq) -> None:
    ctx = zmq.Context()
    raw = ctx.socket(zmq.PUB)  # a publisher that breaks the rules, written with pyzmq
    port = raw.bind_to_random_port("tcp://127.0.0.1")
    sub = rt_zmq.FrameBusSubscriber(f"tcp://127.0.0.1:{port}")
    stop = threading.Event()

    def spam() -> None:  # frames going back in time, repeated until the slow joiner joins
        while not stop.is_set():
            raw.send(encode_frame(_frame(2), 0))
            raw.send(encode_frame(_frame(1), 1))
            time.sleep(0.01)

    t = threading.Thread(target=spam, daemon=True)
    t.start()
    try:
        with pytest.raises(ValueError, match="not after the previous"):
            for _ in range(3):  # at most two messages before one goes backwards
                assert sub.receive(timeout_ms=5000) is not None
    finally:
        stop.set()
        t.join()
        raw.close(0)
        ctx.term()
    assert rt_zmq.FrameBusSubscriber("tcp://127.0.0.1:1").receive(timeout_ms=10) is None
    with pytest.raises(ValueError, match="nonsense://x"):
        rt_zmq.FrameBusSubscriber("nonsense://x")
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        rt_zmq.encode_frame_message(np.zeros((2, 2), np.uint8), 0)
