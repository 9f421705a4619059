// The frame bus: message encoding/decoding (always built) and the ZeroMQ publisher/subscriber
// (built with EGOM2P_WITH_ZMQ, which CMake defines when cppzmq is found; otherwise Create
// returns kUnavailable).
#include "egom2p/frame_bus.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <map>
#include <utility>

#ifdef EGOM2P_WITH_ZMQ
#include <chrono>
#include <zmq.hpp>
#endif

namespace egom2p {
namespace {

constexpr uint8_t kDTypeUInt8 = 1;
constexpr uint16_t kKnownFlags = kFrameBusFlagZlib | kFrameBusFlagEndOfStream;

// Little-endian stores and loads, independent of the host's byte order.
void PutLE(uint8_t* p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

uint64_t GetLE(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

Status Invalid(const std::string& field, const std::string& expected, const std::string& got) {
  return Status(StatusCode::kInvalidArgument,
                "frame bus message: " + field + ": expected " + expected + ", got " + got);
}

}  // namespace

Result<std::vector<uint8_t>> EncodeBusFrame(const BusFrame& frame) {
  if (frame.source.size() > 255) {
    return Invalid("source", "at most 255 bytes", std::to_string(frame.source.size()) + " bytes");
  }
  size_t payload = 0;
  if (!frame.end_of_stream) {
    if (frame.height <= 0 || frame.width <= 0) {
      return Invalid("shape", "height > 0 and width > 0",
                     std::to_string(frame.height) + " x " + std::to_string(frame.width));
    }
    payload = static_cast<size_t>(frame.height) * static_cast<size_t>(frame.width) * 3;
    if (frame.rgb.size() != payload) {
      return Invalid("rgb", std::to_string(payload) + " bytes (height * width * 3)",
                     std::to_string(frame.rgb.size()) + " bytes");
    }
    if (payload > UINT32_MAX) return Invalid("rgb", "< 4 GiB", std::to_string(payload) + " bytes");
  }
  std::vector<uint8_t> out(kFrameBusHeaderBytes + frame.source.size() + payload);
  uint8_t* p = out.data();
  std::memcpy(p, kFrameBusMagic, 4);
  PutLE(p + 4, kFrameBusVersion, 2);
  PutLE(p + 6, frame.end_of_stream ? kFrameBusFlagEndOfStream : 0, 2);
  PutLE(p + 8, static_cast<uint64_t>(frame.timestamp_ns), 8);
  PutLE(p + 16, frame.sequence, 8);
  PutLE(p + 24, frame.end_of_stream ? 0 : static_cast<uint32_t>(frame.height), 4);
  PutLE(p + 28, frame.end_of_stream ? 0 : static_cast<uint32_t>(frame.width), 4);
  PutLE(p + 32, 3, 2);
  p[34] = kDTypeUInt8;
  p[35] = static_cast<uint8_t>(frame.source.size());
  PutLE(p + 36, payload, 4);
  std::memcpy(p + kFrameBusHeaderBytes, frame.source.data(), frame.source.size());
  if (payload > 0) {
    std::memcpy(p + kFrameBusHeaderBytes + frame.source.size(), frame.rgb.data(), payload);
  }
  return out;
}

Status DecodeBusFrame(const uint8_t* data, size_t size, BusFrame* frame) {
  if (frame == nullptr) return Invalid("frame", "a non-null output", "nullptr");
  if (data == nullptr || size < kFrameBusHeaderBytes) {
    return Invalid("length", ">= 40 bytes (the header)", std::to_string(size) + " bytes");
  }
  if (std::memcmp(data, kFrameBusMagic, 4) != 0) {
    return Invalid("magic", "\"EGMF\" (is this an egom2p frame-bus publisher?)",
                   "\"" + std::string(reinterpret_cast<const char*>(data), 4) + "\"");
  }
  const uint64_t version = GetLE(data + 4, 2);
  if (version != kFrameBusVersion) {
    return Invalid("version", "1 (upgrade the older side)", std::to_string(version));
  }
  const uint16_t flags = static_cast<uint16_t>(GetLE(data + 6, 2));
  if (flags & ~kKnownFlags) return Invalid("flags", "only bits 0x3", std::to_string(flags));
  const uint64_t height = GetLE(data + 24, 4);
  const uint64_t width = GetLE(data + 28, 4);
  const uint64_t channels = GetLE(data + 32, 2);
  const uint8_t dtype = data[34];
  const size_t source_len = data[35];
  const uint64_t payload_size = GetLE(data + 36, 4);
  if (size != kFrameBusHeaderBytes + source_len + payload_size) {
    return Invalid("length",
                   std::to_string(kFrameBusHeaderBytes + source_len + payload_size) +
                       " bytes (header + source + payload)",
                   std::to_string(size) + " bytes (truncated or padded message)");
  }
  BusFrame out;
  out.timestamp_ns = static_cast<int64_t>(GetLE(data + 8, 8));
  out.sequence = GetLE(data + 16, 8);
  out.source.assign(reinterpret_cast<const char*>(data + kFrameBusHeaderBytes), source_len);
  if (flags & kFrameBusFlagEndOfStream) {
    out.end_of_stream = true;
    *frame = std::move(out);
    return Status::Ok();
  }
  if (dtype != kDTypeUInt8) return Invalid("dtype", "1 (uint8)", std::to_string(dtype));
  if (channels != 3 || height == 0 || width == 0 || height > INT_MAX || width > INT_MAX) {
    return Invalid("shape", "(H > 0, W > 0, 3)",
                   "(" + std::to_string(height) + ", " + std::to_string(width) + ", " +
                       std::to_string(channels) + ")");
  }
  if (flags & kFrameBusFlagZlib) {
    return Status(StatusCode::kUnavailable,
                  "frame bus message from '" + out.source +
                      "': the pixels are zlib-compressed and the C++ subscriber has no zlib; "
                      "publish with compress=False");
  }
  // height * width <= payload_size < 2^32 before the multiplication by 3, so nothing overflows.
  const uint64_t pixels = height * width;
  if (pixels > payload_size || pixels * 3 != payload_size) {
    return Invalid("payload", std::to_string(height) + " * " + std::to_string(width) + " * 3 bytes",
                   std::to_string(payload_size) + " bytes");
  }
  out.height = static_cast<int>(height);
  out.width = static_cast<int>(width);
  const uint8_t* pixels_begin = data + kFrameBusHeaderBytes + source_len;
  out.rgb.assign(pixels_begin, pixels_begin + payload_size);
  *frame = std::move(out);
  return Status::Ok();
}

#ifdef EGOM2P_WITH_ZMQ

class FrameBusContext {
 public:
  zmq::context_t context;
};

Result<std::shared_ptr<FrameBusContext>> CreateFrameBusContext() {
  try {
    return std::make_shared<FrameBusContext>();
  } catch (const zmq::error_t& e) {
    return Status(StatusCode::kInternal, std::string("ZeroMQ context: ") + e.what());
  }
}

namespace {

Status ZmqError(const std::string& what, const zmq::error_t& e) {
  return Status(StatusCode::kInternal, what + ": ZeroMQ error: " + e.what());
}

class ZmqFrameSubscriber : public FrameSubscriber {
 public:
  ZmqFrameSubscriber(std::shared_ptr<FrameBusContext> context, zmq::socket_t socket)
      : context_(std::move(context)), socket_(std::move(socket)) {}

  Result<bool> Receive(int timeout_ms, BusFrame* frame) override {
    if (frame == nullptr) return Invalid("frame", "a non-null output", "nullptr");
    zmq::message_t message;
    try {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms < 0 ? -1 : timeout_ms)) == 0) {
        return false;
      }
      if (!socket_.recv(message, zmq::recv_flags::dontwait)) return false;
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) return false;  // a signal: the caller may retry
      return ZmqError("FrameSubscriber::Receive", e);
    }
    BusFrame decoded;
    Status s =
        DecodeBusFrame(static_cast<const uint8_t*>(message.data()), message.size(), &decoded);
    if (!s.ok()) return s;
    auto next = next_sequence_.find(decoded.source);
    if (next != next_sequence_.end() && decoded.sequence > next->second) {
      frames_dropped_ += decoded.sequence - next->second;
    }
    next_sequence_[decoded.source] = decoded.sequence + 1;
    if (!decoded.end_of_stream) {
      auto last = last_timestamp_ns_.find(decoded.source);
      if (last != last_timestamp_ns_.end() && decoded.timestamp_ns <= last->second) {
        return Status(StatusCode::kInvalidArgument,
                      "frame bus: frame from '" + decoded.source + "' has timestamp_ns " +
                          std::to_string(decoded.timestamp_ns) + ", not after the previous " +
                          std::to_string(last->second) + " (timestamps must strictly increase)");
      }
      last_timestamp_ns_[decoded.source] = decoded.timestamp_ns;
      ++frames_received_;
    }
    *frame = std::move(decoded);
    return true;
  }

  uint64_t frames_received() const override { return frames_received_; }
  uint64_t frames_dropped() const override { return frames_dropped_; }

 private:
  std::shared_ptr<FrameBusContext> context_;  // declared first: outlives the socket
  zmq::socket_t socket_;
  std::map<std::string, uint64_t> next_sequence_;
  std::map<std::string, int64_t> last_timestamp_ns_;
  uint64_t frames_received_ = 0;
  uint64_t frames_dropped_ = 0;
};

class ZmqFramePublisher : public FramePublisher {
 public:
  ZmqFramePublisher(std::shared_ptr<FrameBusContext> context, zmq::socket_t socket,
                    std::string endpoint, const FramePublisherOptions& options)
      : context_(std::move(context)),
        socket_(std::move(socket)),
        endpoint_(std::move(endpoint)),
        bind_(options.bind),
        lossless_(options.lossless),
        send_timeout_ms_(options.send_timeout_ms) {}

  ~ZmqFramePublisher() override {
    if (!closed_) Close();
  }

  Status WaitForSubscribers(int n, int timeout_ms) override {
    if (!bind_) {
      return Status(StatusCode::kFailedPrecondition,
                    "FramePublisher " + endpoint_ +
                        ": a connecting publisher cannot wait for subscribers (an XPUB that "
                        "connects does not see a binding SUB's subscription until it sends); "
                        "bind the publisher and connect the subscribers");
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (subscribers_ < n) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return Status(StatusCode::kFailedPrecondition,
                      "FramePublisher " + endpoint_ + ": " + std::to_string(subscribers_) + " of " +
                          std::to_string(n) + " subscribers after " + std::to_string(timeout_ms) +
                          " ms; is the subscriber connected here?");
      }
      Status s = DrainSubscriptions(static_cast<int>(left.count()));
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  Result<bool> Publish(const BusFrame& frame) override {
    if (closed_) {
      return Status(StatusCode::kFailedPrecondition, "FramePublisher: Publish after Close");
    }
    if (frame.end_of_stream) return Invalid("frame", "a frame (use Close())", "end_of_stream");
    if (has_last_ && frame.timestamp_ns <= last_timestamp_ns_) {
      return Status(StatusCode::kInvalidArgument,
                    "FramePublisher: timestamp_ns " + std::to_string(frame.timestamp_ns) +
                        " is not after the previous frame's " + std::to_string(last_timestamp_ns_) +
                        "; the frame was not published");
    }
    BusFrame numbered = frame;
    numbered.sequence = sequence_;
    auto sent = Send(numbered, lossless_ ? send_timeout_ms_ : 0);
    if (!sent.ok()) return sent.status();
    if (!sent.value() && lossless_) {
      return Status(StatusCode::kFailedPrecondition,
                    "FramePublisher " + endpoint_ + ": a subscriber's queue stayed full for " +
                        std::to_string(send_timeout_ms_) + " ms; the frame was not sent");
    }
    has_last_ = true;
    last_timestamp_ns_ = frame.timestamp_ns;
    source_ = frame.source;
    ++sequence_;  // a dropped frame keeps its number: subscribers see the gap
    if (!sent.value()) ++frames_dropped_;
    return sent.value();
  }

  Status Close() override {
    if (closed_) return Status::Ok();
    closed_ = true;
    BusFrame end;
    end.end_of_stream = true;
    end.sequence = sequence_;
    end.source = source_;
    auto sent = Send(end, 1000);
    if (!sent.ok()) return sent.status();
    if (!sent.value()) {
      return Status(StatusCode::kFailedPrecondition,
                    "FramePublisher " + endpoint_ +
                        ": end-of-stream not sent, a subscriber's queue stayed full for 1 s");
    }
    return Status::Ok();
  }

  const std::string& endpoint() const override { return endpoint_; }
  uint64_t frames_dropped() const override { return frames_dropped_; }

 private:
  // true: sent; false: a queue stayed full for timeout_ms (0: do not wait). The socket has
  // ZMQ_XPUB_NODROP, so a full queue is EAGAIN instead of a silent drop.
  Result<bool> Send(const BusFrame& frame, int timeout_ms) {
    auto bytes = EncodeBusFrame(frame);
    if (!bytes.ok()) return bytes.status();
    try {
      Status s = DrainSubscriptions(0);
      if (!s.ok()) return s;
      if (timeout_ms == 0) {
        return socket_.send(zmq::buffer(bytes.value()), zmq::send_flags::dontwait).has_value();
      }
      socket_.set(zmq::sockopt::sndtimeo, timeout_ms);
      return socket_.send(zmq::buffer(bytes.value()), zmq::send_flags::none).has_value();
    } catch (const zmq::error_t& e) {
      return ZmqError("FramePublisher::Publish", e);
    }
  }

  // Counts the (un)subscription messages the XPUB socket has received.
  Status DrainSubscriptions(int timeout_ms) {
    try {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) == 0) return Status::Ok();
      zmq::message_t message;
      while (socket_.recv(message, zmq::recv_flags::dontwait)) {
        const auto* p = static_cast<const uint8_t*>(message.data());
        if (message.size() > 0 && p[0] == 1) ++subscribers_;
        if (message.size() > 0 && p[0] == 0 && subscribers_ > 0) --subscribers_;
      }
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) return ZmqError("FramePublisher subscriptions", e);
    }
    return Status::Ok();
  }

  std::shared_ptr<FrameBusContext> context_;  // declared first: outlives the socket
  zmq::socket_t socket_;
  std::string endpoint_;
  std::string source_;
  bool bind_ = true;
  bool lossless_ = false;
  int send_timeout_ms_ = 0;
  int subscribers_ = 0;
  uint64_t frames_dropped_ = 0;
  uint64_t sequence_ = 0;
  bool has_last_ = false;
  int64_t last_timestamp_ns_ = 0;
  bool closed_ = false;
};

Result<std::shared_ptr<FrameBusContext>> ContextOrNew(std::shared_ptr<FrameBusContext> given) {
  if (given) return given;
  return CreateFrameBusContext();
}

}  // namespace

Result<std::unique_ptr<FrameSubscriber>> FrameSubscriber::Create(
    const std::string& endpoint, const FrameSubscriberOptions& options) {
  auto context = ContextOrNew(options.context);
  if (!context.ok()) return context.status();
  try {
    zmq::socket_t socket(context.value()->context, zmq::socket_type::sub);
    socket.set(zmq::sockopt::rcvhwm, options.rcvhwm);
    socket.set(zmq::sockopt::linger, 0);
    if (options.latest_only) socket.set(zmq::sockopt::conflate, 1);  // before connect/bind
    socket.set(zmq::sockopt::subscribe, "");
    try {
      options.bind ? socket.bind(endpoint) : socket.connect(endpoint);
    } catch (const zmq::error_t& e) {
      return Status(StatusCode::kInvalidArgument,
                    "FrameSubscriber: cannot " + std::string(options.bind ? "bind" : "connect") +
                        " '" + endpoint + "' (" + e.what() + "); check the endpoint syntax " +
                        "(tcp://host:port, ipc://path, inproc://name)");
    }
    return std::unique_ptr<FrameSubscriber>(
        new ZmqFrameSubscriber(std::move(context.value()), std::move(socket)));
  } catch (const zmq::error_t& e) {
    return ZmqError("FrameSubscriber::Create", e);
  }
}

Result<std::unique_ptr<FramePublisher>> FramePublisher::Create(
    const std::string& endpoint, const FramePublisherOptions& options) {
  auto context = ContextOrNew(options.context);
  if (!context.ok()) return context.status();
  try {
    zmq::socket_t socket(context.value()->context, zmq::socket_type::xpub);
    socket.set(zmq::sockopt::sndhwm, options.sndhwm);
    socket.set(zmq::sockopt::linger, 1000);     // let queued frames leave on close
    socket.set(zmq::sockopt::xpub_verbose, 1);  // every subscription, not only the first
    socket.set(zmq::sockopt::xpub_nodrop, 1);   // full queues are EAGAIN, not silent drops
    try {
      options.bind ? socket.bind(endpoint) : socket.connect(endpoint);
    } catch (const zmq::error_t& e) {
      return Status(StatusCode::kInvalidArgument,
                    "FramePublisher: cannot " + std::string(options.bind ? "bind" : "connect") +
                        " '" + endpoint + "' (" + e.what() + ")");
    }
    std::string resolved = socket.get(zmq::sockopt::last_endpoint);
    if (resolved.empty()) resolved = endpoint;
    return std::unique_ptr<FramePublisher>(
        new ZmqFramePublisher(std::move(context.value()), std::move(socket), resolved, options));
  } catch (const zmq::error_t& e) {
    return ZmqError("FramePublisher::Create", e);
  }
}

#else  // built without ZeroMQ

class FrameBusContext {};

namespace {
Status NoZmq(const std::string& what) {
  return Status(StatusCode::kUnavailable,
                what +
                    ": this runtime was built without ZeroMQ; install libzmq3-dev and "
                    "cppzmq-dev and rebuild");
}
}  // namespace

Result<std::shared_ptr<FrameBusContext>> CreateFrameBusContext() {
  return NoZmq("CreateFrameBusContext");
}

Result<std::unique_ptr<FrameSubscriber>> FrameSubscriber::Create(const std::string&,
                                                                 const FrameSubscriberOptions&) {
  return NoZmq("FrameSubscriber");
}

Result<std::unique_ptr<FramePublisher>> FramePublisher::Create(const std::string&,
                                                               const FramePublisherOptions&) {
  return NoZmq("FramePublisher");
}

#endif  // EGOM2P_WITH_ZMQ

}  // namespace egom2p
