"""The ZeroMQ frame bus: ``FramePublisher`` sends frames, ``FrameSubscriber`` receives them (in
Python, or in C++ with ``egom2p::FrameSubscriber``). One message per frame, in the wire format of
``bus_format`` (read its table).

Slow joiners: a PUB socket drops what it sends before a subscriber's subscription has reached it
(DEPENDENCIES.md: 0 of 5 messages without a delay). The publisher is therefore an XPUB socket that
sees each subscription arrive; ``wait_for_subscribers(n)`` returns once ``n`` subscriptions have
arrived, and every frame published after that reaches those subscribers (up to the high-water
marks). Subscribers need no handshake of their own, so a plain SUB socket in any language works.
The handshake needs the publisher to bind and the subscribers to connect: a connecting XPUB
does not see the subscription of a binding SUB until it sends something (measured with libzmq
4.3.5), so ``wait_for_subscribers`` refuses ``bind=False``.

Live streams: ``FrameSubscriber(latest_only=True)`` sets ZMQ_CONFLATE, so a slow consumer always
gets the newest frame and never a backlog; gaps show in ``frames_dropped`` (from the sequence
numbers). ``FramePublisher(conflate=True)`` conflates at the sender too, but libzmq ignores
CONFLATE on XPUB (measured with pyzmq 27 / libzmq 4.3.5), so that publisher is a plain PUB
socket without the handshake: use it only where losing the first frames is acceptable.

Queues: ``sndhwm``/``rcvhwm`` bound them (in messages). The XPUB socket is created with
ZMQ_XPUB_NODROP, so a full queue is reported instead of silently dropping: by default
``publish()`` then drops the frame itself (for every subscriber), counts it in
``frames_dropped`` and returns False (right for live cameras; subscribers see the gap).
Recordings that must arrive whole use ``FramePublisher(lossless=True)``: ``publish()`` waits
while a queue is full, up to ``send_timeout_s`` (TimeoutError). The end-of-stream message always
waits (up to 1 s), so a subscriber sees the end. (Measured with libzmq 4.3.5: turning NODROP on
only for the last message does not work; the option must be set when the socket is made.)

Usage::

    with FramePublisher("tcp://127.0.0.1:5555") as pub:
        pub.wait_for_subscribers(1, timeout_s=10)
        for frame in VideoFileSource("clip.mp4", realtime=True):
            pub.publish(frame)
    # elsewhere
    with FrameSubscriber("tcp://127.0.0.1:5555") as sub:
        for frame in sub:  # until the publisher closes
            ...
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import zmq

from egom2p_edge.devices.bus_format import decode_message, encode_end_of_stream, encode_frame
from egom2p_edge.devices.frame import BaseFrameSource, Frame, SourceInfo, TimestampOrderError

log = logging.getLogger(__name__)

__all__ = ["FramePublisher", "FrameSubscriber"]

DEFAULT_LINGER_MS = 1000  # how long close() waits for queued frames to leave


def _attach(owner, endpoint: str, bind: bool) -> str:
    """Bind or connect ``owner._sock``; on failure close it (and its own context) and raise a
    ValueError naming the owner class and the endpoint. Returns the endpoint actually used."""
    try:
        (owner._sock.bind if bind else owner._sock.connect)(endpoint)
    except zmq.ZMQError as exc:
        owner._sock.close(0)
        if owner._own_context:
            owner._ctx.term()
        raise ValueError(
            f"{type(owner).__name__}: cannot {'bind' if bind else 'connect'} {endpoint!r} ({exc})"
        ) from exc
    return owner._sock.getsockopt_string(zmq.LAST_ENDPOINT) or endpoint


class FramePublisher:
    """Publishes frames on ``endpoint`` (bound by default; ``bind=False`` connects instead).

    ``endpoint`` may use a wildcard port (``tcp://127.0.0.1:*``); ``self.endpoint`` is the
    resolved address. ``compress``: zlib the pixels (Python subscribers only). ``lossless``:
    wait (up to ``send_timeout_s``) instead of dropping when a queue is full (see the module
    doc). ``context``: a zmq.Context to share (needed for ``inproc://``); by default the
    publisher owns one.
    """

    def __init__(
        self,
        endpoint: str,
        conflate: bool = False,
        sndhwm: int = 16,
        bind: bool = True,
        compress: bool = False,
        lossless: bool = False,
        send_timeout_s: float = 10.0,
        context: zmq.Context | None = None,
    ) -> None:
        if sndhwm < 0:
            raise ValueError(f"FramePublisher: sndhwm must be >= 0 messages, got {sndhwm}")
        if lossless and conflate:
            raise ValueError("FramePublisher: lossless=True contradicts conflate=True; pick one")
        if not send_timeout_s > 0:
            raise ValueError(f"FramePublisher: send_timeout_s must be > 0, got {send_timeout_s}")
        self._own_context = context is None
        self._ctx = zmq.Context() if context is None else context
        self.conflate, self.compress, self.lossless = bool(conflate), bool(compress), lossless
        self.bind = bool(bind)
        self.send_timeout_s = float(send_timeout_s)
        self._sock = self._ctx.socket(zmq.PUB if conflate else zmq.XPUB)
        self._sock.setsockopt(zmq.SNDHWM, int(sndhwm))
        self._sock.setsockopt(zmq.LINGER, DEFAULT_LINGER_MS)
        if conflate:
            self._sock.setsockopt(zmq.CONFLATE, 1)
        else:
            self._sock.setsockopt(zmq.XPUB_VERBOSE, 1)  # every subscription, not only the first
            self._sock.setsockopt(zmq.XPUB_NODROP, 1)  # report full queues (see module doc)
        self.endpoint = _attach(self, endpoint, bind)
        self.subscribers = 0  # subscriptions seen minus unsubscriptions (XPUB only)
        self.frames_sent = 0
        self.frames_dropped = 0  # publish() calls that found a queue full (lossless=False)
        self._sequence = 0
        self._last_timestamp_ns: int | None = None
        self._source = "publisher"
        self._closed = False

    def _drain_subscriptions(self, timeout_ms: int) -> None:
        if self.conflate or not self._sock.poll(timeout_ms, zmq.POLLIN):
            return
        while True:
            try:
                msg = self._sock.recv(zmq.NOBLOCK)
            except zmq.Again:
                return
            if msg[:1] == b"\x01":
                self.subscribers += 1
            elif msg[:1] == b"\x00":
                self.subscribers = max(0, self.subscribers - 1)

    def wait_for_subscribers(self, n: int = 1, timeout_s: float = 10.0) -> int:
        """Block until ``n`` subscriptions have arrived; returns the count. TimeoutError after
        ``timeout_s``; ValueError for a conflating publisher (it cannot see subscriptions)."""
        if self.conflate:
            raise ValueError(
                "FramePublisher(conflate=True) cannot wait for subscribers (libzmq ignores "
                "CONFLATE on XPUB, so it is a plain PUB socket); use conflate=False with "
                "FrameSubscriber(latest_only=True) to get both"
            )
        if not self.bind:
            raise ValueError(
                "FramePublisher(bind=False) cannot wait for subscribers: a connecting XPUB "
                "does not see the subscription of a binding SUB until it sends (measured, "
                "libzmq 4.3.5); bind the publisher and connect the subscribers"
            )
        deadline = time.monotonic() + timeout_s
        while self.subscribers < n:
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0:
                raise TimeoutError(
                    f"FramePublisher {self.endpoint}: {self.subscribers} of {n} subscribers "
                    f"after {timeout_s} s; is the subscriber connected to this endpoint?"
                )
            self._drain_subscriptions(left_ms)
        return self.subscribers

    def publish(self, frame: Frame) -> bool:
        """Send one frame; False when a full queue made it drop (never with ``lossless``, which
        waits instead). Timestamps must increase; each call takes the next sequence number."""
        if self._closed:
            raise ValueError(f"FramePublisher {self.endpoint}: publish() after close()")
        if not isinstance(frame, Frame):
            raise ValueError(
                f"FramePublisher.publish: expected a Frame, got {type(frame).__name__}"
            )
        last = self._last_timestamp_ns
        if last is not None and frame.timestamp_ns <= last:
            raise TimestampOrderError(
                f"FramePublisher {self.endpoint}: timestamp_ns {frame.timestamp_ns} is not after "
                f"the previous frame's {last}; the frame was not published"
            )
        self._drain_subscriptions(0)
        message = encode_frame(frame, self._sequence, self.compress)
        self._last_timestamp_ns, self._source = frame.timestamp_ns, frame.source
        self._sequence += 1  # a dropped frame keeps its number: subscribers see the gap
        if self.lossless:
            self._sock.setsockopt(zmq.SNDTIMEO, int(self.send_timeout_s * 1000))
            try:
                self._sock.send(message, copy=False)
            except zmq.Again:
                raise TimeoutError(
                    f"FramePublisher {self.endpoint}: a subscriber's queue stayed full for "
                    f"{self.send_timeout_s} s (lossless=True); the frame was not sent"
                ) from None
        else:
            try:
                self._sock.send(message, zmq.NOBLOCK, copy=False)
            except zmq.Again:
                self.frames_dropped += 1
                return False
        self.frames_sent += 1
        return True

    def close(self, end_of_stream: bool = True) -> None:
        """Send the end-of-stream message (unless told not to) and close the socket, waiting up
        to 1 s for queued frames to leave."""
        if self._closed:
            return
        self._closed = True
        if end_of_stream:
            self._sock.setsockopt(zmq.SNDTIMEO, DEFAULT_LINGER_MS)  # wait for room, not drop
            try:
                self._sock.send(encode_end_of_stream(self._sequence, self._source))
            except zmq.Again:
                log.warning(
                    "%s: end-of-stream not sent: a subscriber's queue is full", self.endpoint
                )
        self._sock.close()
        if self._own_context:
            self._ctx.term()

    def __enter__(self) -> FramePublisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FrameSubscriber(BaseFrameSource):
    """Receives frames from ``endpoint`` (connected by default; ``bind=True`` binds).

    A ``FrameSource``: iterating yields frames until the publisher's end-of-stream message
    (``timeout_s``: TimeoutError when no message arrives for that long; None waits forever).
    ``recv(timeout_s)`` returns one frame or None (timeout or end of stream; see ``ended``).
    ``latest_only``: ZMQ_CONFLATE, for live streams. ``frames_dropped`` counts sequence gaps.
    Frames carry ``meta["sequence"]``; their ``rgb`` is read-only.
    """

    def __init__(
        self,
        endpoint: str,
        latest_only: bool = False,
        rcvhwm: int = 16,
        bind: bool = False,
        timeout_s: float | None = None,
        context: zmq.Context | None = None,
    ) -> None:
        super().__init__(SourceInfo(None, None, None, f"frame bus {endpoint}"))
        self._own_context = context is None
        self._ctx = zmq.Context() if context is None else context
        self._sock = self._ctx.socket(zmq.SUB)
        self._sock.setsockopt(zmq.RCVHWM, int(rcvhwm))
        self._sock.setsockopt(zmq.LINGER, 0)
        if latest_only:
            self._sock.setsockopt(zmq.CONFLATE, 1)  # must precede connect/bind
        self._sock.setsockopt(zmq.SUBSCRIBE, b"")
        self.endpoint = _attach(self, endpoint, bind)
        self.latest_only, self.timeout_s = bool(latest_only), timeout_s
        self.ended = False
        self.frames_received = 0
        self.frames_dropped = 0
        self._next_sequence: dict[str, int] = {}

    def recv(self, timeout_s: float | None = None) -> Frame | None:
        """The next frame; None after ``timeout_s`` (None: wait forever) or at end of stream."""
        if self.ended:
            return None
        timeout_ms = -1 if timeout_s is None else max(0, int(timeout_s * 1000))
        if not self._sock.poll(timeout_ms, zmq.POLLIN):
            return None
        msg = decode_message(self._sock.recv(copy=False).buffer)
        expected = self._next_sequence.get(msg.source)
        if expected is not None and msg.sequence > expected:
            self.frames_dropped += msg.sequence - expected
        self._next_sequence[msg.source] = msg.sequence + 1
        if msg.end_of_stream:
            self.ended = True
            log.info("%s: end of stream after %d frames", self.endpoint, self.frames_received)
            return None
        self.frames_received += 1
        return msg.frame

    def _frames(self) -> Iterator[Frame]:
        while True:
            frame = self.recv(self.timeout_s)
            if frame is not None:
                yield frame
            elif self.ended:
                return
            else:
                raise TimeoutError(
                    f"FrameSubscriber {self.endpoint}: no message for {self.timeout_s} s "
                    f"({self.frames_received} frames so far)"
                )

    def _close(self) -> None:
        self._sock.close(0)
        if self._own_context:
            self._ctx.term()
