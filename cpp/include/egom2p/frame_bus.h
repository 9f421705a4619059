// The frame bus: RGB frames over ZeroMQ, one single-part message per frame, in the wire format of
// devices/bus_format.py (the Python side). The subscriber is what the runtime uses to take frames
// from a device process; the publisher exists for tests and for C++ producers.
//
// Basic usage:
//   auto sub = egom2p::FrameSubscriber::Create("tcp://127.0.0.1:5555");
//   if (!sub.ok()) return sub.status();
//   egom2p::BusFrame frame;
//   for (;;) {
//     auto got = sub.value()->Receive(/*timeout_ms=*/1000, &frame);
//     if (!got.ok()) return got.status();       // malformed message, out-of-order frame, ...
//     if (!got.value()) continue;                // timed out
//     if (frame.end_of_stream) break;            // the publisher closed
//     stream.Push(frame.rgb.data(), frame.height, frame.width, frame.timestamp_ns);
//   }
//
// Wire format (little-endian; 40-byte header, then the UTF-8 source name, then the payload):
//   0 magic "EGMF" | 4 uint16 version (1) | 6 uint16 flags (bit 0 zlib, bit 1 end of stream)
//   8 int64 timestamp_ns | 16 uint64 sequence | 24 uint32 height | 28 uint32 width
//   32 uint16 channels (3) | 34 uint8 dtype (1 = uint8) | 35 uint8 source_len
//   36 uint32 payload_size | 40 source | 40 + source_len payload: (H, W, 3) uint8 RGB row-major.
// zlib-compressed payloads are rejected (kUnavailable): this library does not link zlib.
//
// Everything here is declared in every build; without ZeroMQ (cppzmq not found by CMake, so
// EGOM2P_WITH_ZMQ undefined) Create returns kUnavailable. EncodeBusFrame/DecodeBusFrame never
// need ZeroMQ.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "egom2p/status.h"

namespace egom2p {

inline constexpr char kFrameBusMagic[4] = {'E', 'G', 'M', 'F'};
inline constexpr uint16_t kFrameBusVersion = 1;
inline constexpr size_t kFrameBusHeaderBytes = 40;
inline constexpr uint16_t kFrameBusFlagZlib = 1;
inline constexpr uint16_t kFrameBusFlagEndOfStream = 2;

// One message. A frame: rgb holds height * width * 3 bytes, (H, W, 3) uint8 RGB, row-major.
// The end-of-stream marker: end_of_stream true, height = width = 0, rgb empty.
struct BusFrame {
  int64_t timestamp_ns = 0;
  uint64_t sequence = 0;  // the publisher's message counter; gaps are dropped frames
  int height = 0;
  int width = 0;
  std::string source;  // the device or file name (at most 255 bytes of UTF-8)
  bool end_of_stream = false;
  std::vector<uint8_t> rgb;
};

// The message bytes of a frame (or of the end-of-stream marker). InvalidArgument when rgb does
// not hold height * width * 3 bytes or the source name is longer than 255 bytes.
Result<std::vector<uint8_t>> EncodeBusFrame(const BusFrame& frame);

// Parses one message into *frame. InvalidArgument names the malformed field (magic, version,
// length, shape, ...); Unavailable for a zlib-compressed payload.
Status DecodeBusFrame(const uint8_t* data, size_t size, BusFrame* frame);

// A ZeroMQ context to share between the publishers and subscribers of one process (inproc://
// endpoints need one). Opaque, so this header does not include ZeroMQ.
class FrameBusContext;
Result<std::shared_ptr<FrameBusContext>> CreateFrameBusContext();

struct FrameSubscriberOptions {
  bool latest_only = false;  // ZMQ_CONFLATE: keep only the newest frame (live streams)
  int rcvhwm = 16;           // receive queue bound, in messages
  bool bind = false;         // bind instead of connect
  std::shared_ptr<FrameBusContext> context;  // null: the subscriber owns a context
};

class FrameSubscriber {
 public:
  // Subscribes to everything published on endpoint. InvalidArgument when the endpoint cannot
  // be connected/bound; Unavailable when built without ZeroMQ.
  static Result<std::unique_ptr<FrameSubscriber>> Create(
      const std::string& endpoint, const FrameSubscriberOptions& options = {});
  virtual ~FrameSubscriber() = default;

  // Waits up to timeout_ms (-1: forever) for one message. true: *frame holds a frame or the
  // end-of-stream marker; false: timed out. A bad message or a frame whose timestamp_ns is not
  // after the previous one from the same source is an error (that frame is discarded).
  virtual Result<bool> Receive(int timeout_ms, BusFrame* frame) = 0;
  virtual uint64_t frames_received() const = 0;
  virtual uint64_t frames_dropped() const = 0;  // sequence gaps seen so far
};

struct FramePublisherOptions {
  int sndhwm = 16;              // send queue bound, in messages
  bool bind = true;             // bind instead of connect
  bool lossless = false;        // wait while a queue is full instead of dropping the frame
  int send_timeout_ms = 10000;  // how long a lossless Publish waits
  std::shared_ptr<FrameBusContext> context;  // null: the publisher owns a context
};

class FramePublisher {
 public:
  // An XPUB socket on endpoint (a wildcard port "tcp://127.0.0.1:*" is resolved: endpoint()),
  // made with ZMQ_XPUB_NODROP so that full queues are seen and counted, not silently dropped.
  static Result<std::unique_ptr<FramePublisher>> Create(const std::string& endpoint,
                                                        const FramePublisherOptions& options = {});
  // Sends the end-of-stream marker unless Close() did already.
  virtual ~FramePublisher() = default;

  // Blocks until n subscriptions have arrived (the slow-joiner handshake): frames published
  // afterwards reach those subscribers. FailedPrecondition after timeout_ms, or at once for a
  // publisher that connects (options.bind false): a connecting XPUB does not see a binding SUB's
  // subscription until it sends (measured with pyzmq's libzmq 4.3.5), so bind the publisher.
  virtual Status WaitForSubscribers(int n, int timeout_ms) = 0;
  // Sends frame with the next sequence number. true: sent; false: a subscriber's queue was
  // full and the frame was dropped (for every subscriber; counted in frames_dropped()). With
  // options.lossless it waits instead, and FailedPrecondition means the wait timed out.
  // InvalidArgument for a bad size or a timestamp_ns not after the previous frame's.
  virtual Result<bool> Publish(const BusFrame& frame) = 0;
  // Sends the end-of-stream marker (waiting up to 1 s for room); later Publish calls fail.
  virtual Status Close() = 0;
  virtual const std::string& endpoint() const = 0;
  virtual uint64_t frames_dropped() const = 0;
};

}  // namespace egom2p
