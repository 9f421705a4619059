"""``egom2p_edge.devices``: frame sources (Aria, HoloLens 2, video files, synthetic) and the bus.

Every source yields ``Frame`` (RGB (H, W, 3) uint8, ``timestamp_ns`` strictly increasing) and is
a context manager with ``info`` and ``close()``::

    from egom2p_edge.devices import VideoFileSource
    with VideoFileSource("clip.mp4", realtime=True) as source:
        for frame in source:
            stream.push(frame.rgb, frame.timestamp_ns)

Sources: ``VideoFileSource`` (PyAV), ``SyntheticSource`` (the synthetic generator),
``AriaVrsSource`` (projectaria-tools, optional), ``HoloLens2PVSource`` (our hl2ss client) and
``FrameSubscriber`` (the ZeroMQ frame bus, fed by ``FramePublisher``). Side channels on the same
clock: ``GazeSample``, ``PoseSample``.
"""

from egom2p_edge.devices.aria import AriaVrsSource
from egom2p_edge.devices.bus import FramePublisher, FrameSubscriber
from egom2p_edge.devices.frame import (
    BaseFrameSource,
    Frame,
    FrameSource,
    GazeSample,
    PoseSample,
    SourceInfo,
    TimestampOrderError,
)
from egom2p_edge.devices.hl2ss_protocol import HoloLens2StreamError
from egom2p_edge.devices.hl2ss_sensors import HoloLens2SensorStream
from egom2p_edge.devices.hololens2 import HoloLens2PayloadError, HoloLens2PVSource
from egom2p_edge.devices.synthetic import SyntheticSource
from egom2p_edge.devices.video import VideoFileSource

__all__ = [
    "AriaVrsSource",
    "BaseFrameSource",
    "Frame",
    "FramePublisher",
    "FrameSource",
    "FrameSubscriber",
    "GazeSample",
    "HoloLens2PVSource",
    "HoloLens2PayloadError",
    "HoloLens2SensorStream",
    "HoloLens2StreamError",
    "PoseSample",
    "SourceInfo",
    "SyntheticSource",
    "TimestampOrderError",
    "VideoFileSource",
]
