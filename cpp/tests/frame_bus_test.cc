// Tests of the frame bus: the wire format byte by byte (the table in frame_bus.h), malformed
// messages, and a C++ publisher and subscriber in one process over inproc:// and tcp://.
#include "egom2p/frame_bus.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace egom2p {
namespace {

BusFrame MakeFrame(int height, int width, int64_t timestamp_ns, int seed) {
  BusFrame f;
  f.timestamp_ns = timestamp_ns;
  f.height = height;
  f.width = width;
  f.source = "cam";
  f.rgb.resize(static_cast<size_t>(height) * width * 3);
  for (size_t i = 0; i < f.rgb.size(); ++i) f.rgb[i] = static_cast<uint8_t>(i * 7 + seed * 31);
  return f;
}

TEST(FrameBusFormat, HeaderBytesFollowTheTable) {
  BusFrame f = MakeFrame(1, 2, 0x0102030405060708LL, 0);
  f.sequence = 5;
  f.source = "ab";
  auto bytes = EncodeBusFrame(f);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  const std::vector<uint8_t>& b = bytes.value();
  ASSERT_EQ(b.size(), 40u + 2u + 6u);
  EXPECT_EQ(std::string(b.begin(), b.begin() + 4), "EGMF");
  EXPECT_EQ(b[4], 1);  // version 1, little-endian
  EXPECT_EQ(b[5], 0);
  EXPECT_EQ(b[6], 0);  // flags
  const uint8_t ts[8] = {8, 7, 6, 5, 4, 3, 2, 1};
  EXPECT_EQ(std::memcmp(b.data() + 8, ts, 8), 0);
  EXPECT_EQ(b[16], 5);  // sequence
  EXPECT_EQ(b[24], 1);  // height
  EXPECT_EQ(b[28], 2);  // width
  EXPECT_EQ(b[32], 3);  // channels
  EXPECT_EQ(b[34], 1);  // dtype uint8
  EXPECT_EQ(b[35], 2);  // source length
  EXPECT_EQ(b[36], 6);  // payload size
  EXPECT_EQ(b[40], 'a');
  EXPECT_EQ(b[41], 'b');
  EXPECT_EQ(std::memcmp(b.data() + 42, f.rgb.data(), 6), 0);
}

TEST(FrameBusFormat, RoundTripAndEndOfStream) {
  BusFrame f = MakeFrame(5, 7, -42, 3);
  f.sequence = 1234567890123ULL;
  auto bytes = EncodeBusFrame(f);
  ASSERT_TRUE(bytes.ok());
  BusFrame g;
  ASSERT_TRUE(DecodeBusFrame(bytes.value().data(), bytes.value().size(), &g).ok());
  EXPECT_EQ(g.timestamp_ns, -42);
  EXPECT_EQ(g.sequence, f.sequence);
  EXPECT_EQ(g.height, 5);
  EXPECT_EQ(g.width, 7);
  EXPECT_EQ(g.source, "cam");
  EXPECT_FALSE(g.end_of_stream);
  EXPECT_EQ(g.rgb, f.rgb);

  BusFrame end;
  end.end_of_stream = true;
  end.sequence = 9;
  auto end_bytes = EncodeBusFrame(end);
  ASSERT_TRUE(end_bytes.ok());
  ASSERT_TRUE(DecodeBusFrame(end_bytes.value().data(), end_bytes.value().size(), &g).ok());
  EXPECT_TRUE(g.end_of_stream);
  EXPECT_EQ(g.sequence, 9u);
  EXPECT_TRUE(g.rgb.empty());
}

TEST(FrameBusFormat, EncodeRejectsAWrongPixelCount) {
  BusFrame f = MakeFrame(2, 2, 0, 0);
  f.rgb.pop_back();
  auto bytes = EncodeBusFrame(f);
  EXPECT_EQ(bytes.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bytes.status().message().find("rgb"), std::string::npos);
}

Status DecodeModified(size_t offset, uint8_t value, size_t new_size = 0) {
  std::vector<uint8_t> b = EncodeBusFrame(MakeFrame(2, 3, 10, 1)).value();
  if (offset < b.size()) b[offset] = value;
  if (new_size) b.resize(new_size);
  BusFrame out;
  return DecodeBusFrame(b.data(), b.size(), &out);
}

TEST(FrameBusFormat, DecodeNamesTheBadField) {
  struct Case {
    size_t offset;
    uint8_t value;
    size_t new_size;
    StatusCode code;
    const char* field;
  };
  const Case cases[] = {
      {0, 'X', 0, StatusCode::kInvalidArgument, "magic"},
      {4, 2, 0, StatusCode::kInvalidArgument, "version"},
      {6, 0x80, 0, StatusCode::kInvalidArgument, "flags"},
      {6, 1, 0, StatusCode::kUnavailable, "zlib"},
      {34, 2, 0, StatusCode::kInvalidArgument, "dtype"},
      {32, 4, 0, StatusCode::kInvalidArgument, "shape"},
      {24, 3, 0, StatusCode::kInvalidArgument, "payload"},
      {999, 0, 30, StatusCode::kInvalidArgument, "length"},
      {999, 0, 50, StatusCode::kInvalidArgument, "truncated"},
  };
  for (const Case& c : cases) {
    Status s = DecodeModified(c.offset, c.value, c.new_size);
    EXPECT_EQ(s.code(), c.code) << c.field << ": " << s.ToString();
    EXPECT_NE(s.message().find(c.field), std::string::npos) << s.message();
  }
  EXPECT_TRUE(DecodeModified(999, 0).ok());  // the unmodified message decodes
}

// Skips the test when this build has no ZeroMQ (Create says kUnavailable).
#define SKIP_WITHOUT_ZMQ(result)                                                \
  if (!(result).ok() && (result).status().code() == StatusCode::kUnavailable) { \
    GTEST_SKIP() << (result).status().message();                                \
  }

void PublishAndReceive(const std::string& endpoint, bool share_context) {
  FramePublisherOptions pub_options;
  pub_options.lossless = true;  // a burst larger than the queues must not drop
  FrameSubscriberOptions sub_options;
  if (share_context) {
    auto context = CreateFrameBusContext();
    ASSERT_TRUE(context.ok()) << context.status().ToString();
    pub_options.context = sub_options.context = context.value();
  }
  auto pub = FramePublisher::Create(endpoint, pub_options);
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  auto sub = FrameSubscriber::Create(pub.value()->endpoint(), sub_options);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  ASSERT_TRUE(pub.value()->WaitForSubscribers(1, 5000).ok());

  const int kFrames = 40;  // more than the queues hold (16 + 16): the reader must keep up
  std::vector<BusFrame> received;
  std::thread reader([&] {
    for (int i = 0; i <= kFrames; ++i) {  // the frames, then the end-of-stream marker
      BusFrame got;
      auto r = sub.value()->Receive(5000, &got);
      if (!r.ok() || !r.value()) return;
      received.push_back(std::move(got));
    }
  });
  Status publish_status;  // asserted after join: an ASSERT must not leave the thread running
  for (int i = 0; i < kFrames && publish_status.ok(); ++i) {
    auto sent = pub.value()->Publish(MakeFrame(4, 6, 1000 + 33 * i, i));
    publish_status =
        sent.ok() && !sent.value() ? Status(StatusCode::kInternal, "dropped") : sent.status();
  }
  Status close_status = pub.value()->Close();
  reader.join();
  ASSERT_TRUE(publish_status.ok()) << publish_status.ToString();
  ASSERT_TRUE(close_status.ok()) << close_status.ToString();
  ASSERT_EQ(received.size(), static_cast<size_t>(kFrames + 1));  // none lost: the handshake
  for (int i = 0; i < kFrames; ++i) {
    EXPECT_EQ(received[i].sequence, static_cast<uint64_t>(i));
    EXPECT_EQ(received[i].timestamp_ns, 1000 + 33 * i);
    EXPECT_EQ(received[i].rgb, MakeFrame(4, 6, 0, i).rgb);
  }
  EXPECT_TRUE(received.back().end_of_stream);
  EXPECT_EQ(sub.value()->frames_received(), static_cast<uint64_t>(kFrames));
  EXPECT_EQ(sub.value()->frames_dropped(), 0u);
}

TEST(FrameBusSockets, InprocDeliversEveryFrameAfterTheHandshake) {
  auto probe = CreateFrameBusContext();
  SKIP_WITHOUT_ZMQ(probe);
  PublishAndReceive("inproc://frame_bus_test", /*share_context=*/true);
}

TEST(FrameBusSockets, TcpDeliversEveryFrameAfterTheHandshake) {
  auto probe = CreateFrameBusContext();
  SKIP_WITHOUT_ZMQ(probe);
  PublishAndReceive("tcp://127.0.0.1:*", /*share_context=*/false);
}

TEST(FrameBusSockets, LatestOnlyKeepsTheNewestFrame) {
  auto pub = FramePublisher::Create("tcp://127.0.0.1:*");
  SKIP_WITHOUT_ZMQ(pub);
  ASSERT_TRUE(pub.ok());
  FrameSubscriberOptions options;
  options.latest_only = true;
  auto sub = FrameSubscriber::Create(pub.value()->endpoint(), options);
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(pub.value()->WaitForSubscribers(1, 5000).ok());
  // Frame 0 first, so later sequence gaps count as drops (gaps are measured between frames).
  ASSERT_TRUE(pub.value()->Publish(MakeFrame(2, 2, 0, 0)).ok());
  BusFrame got;
  auto first = sub.value()->Receive(5000, &got);
  ASSERT_TRUE(first.ok() && first.value());
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(pub.value()->Publish(MakeFrame(2, 2, i, i)).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let them all arrive
  std::vector<uint64_t> sequences;
  // Read until the newest frame: on a busy machine the last ones may still be on their way.
  while (sequences.empty() || sequences.back() != 10u) {
    auto r = sub.value()->Receive(5000, &got);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(r.value()) << "frame 10 never arrived";
    sequences.push_back(got.sequence);
  }
  auto extra = sub.value()->Receive(100, &got);  // and nothing after it
  ASSERT_TRUE(extra.ok());
  EXPECT_FALSE(extra.value());
  ASSERT_FALSE(sequences.empty());
  EXPECT_LT(sequences.size(), 10u);  // conflated
  EXPECT_EQ(sequences.back(), 10u);  // the newest survives
  EXPECT_EQ(sub.value()->frames_dropped(), 10u - sequences.size());
}

TEST(FrameBusSockets, FullQueuesDropFramesAndBothSidesCountThem) {
  FramePublisherOptions pub_options;
  pub_options.sndhwm = 2;
  auto pub = FramePublisher::Create("tcp://127.0.0.1:*", pub_options);
  SKIP_WITHOUT_ZMQ(pub);
  ASSERT_TRUE(pub.ok());
  FrameSubscriberOptions sub_options;
  sub_options.rcvhwm = 2;
  auto sub = FrameSubscriber::Create(pub.value()->endpoint(), sub_options);
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(pub.value()->WaitForSubscribers(1, 5000).ok());
  std::vector<uint64_t> received;
  bool ended = false;
  // The consumer starts reading only after the whole burst has been offered, so the queues
  // (two frames each side plus the kernel's TCP buffers, far below 300 frames of 192 KiB) must
  // overflow however fast this machine is; a reader that raced the burst sometimes kept up.
  std::atomic<bool> burst_done{false};
  std::thread reader([&] {
    while (!burst_done.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    BusFrame got;
    for (;;) {
      auto r = sub.value()->Receive(5000, &got);
      if (!r.ok() || !r.value()) return;
      if (got.end_of_stream) {
        ended = true;
        return;
      }
      received.push_back(got.sequence);
    }
  });
  std::vector<uint64_t> sent;
  bool all_ok = true;
  for (int i = 0; i < 300; ++i) {
    auto r = pub.value()->Publish(MakeFrame(256, 256, i, i));
    all_ok = all_ok && r.ok();
    if (r.ok() && r.value()) sent.push_back(static_cast<uint64_t>(i));
  }
  burst_done = true;
  Status close_status = pub.value()->Close();  // the end-of-stream marker waits for room
  reader.join();
  ASSERT_TRUE(all_ok);
  ASSERT_TRUE(close_status.ok()) << close_status.ToString();
  EXPECT_TRUE(ended);
  EXPECT_EQ(received, sent);  // exactly what Publish reported as sent, in order
  EXPECT_LT(sent.size(), 300u);
  EXPECT_EQ(pub.value()->frames_dropped(), 300u - sent.size());
  EXPECT_EQ(sub.value()->frames_dropped(), 300u - sent.size());
}

TEST(FrameBusSockets, PublisherRejectsOutOfOrderAndTimesOutWithoutSubscribers) {
  auto pub = FramePublisher::Create("tcp://127.0.0.1:*");
  SKIP_WITHOUT_ZMQ(pub);
  ASSERT_TRUE(pub.ok());
  Status wait = pub.value()->WaitForSubscribers(1, 50);
  EXPECT_EQ(wait.code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(pub.value()->Publish(MakeFrame(2, 2, 100, 0)).ok());
  Status s = pub.value()->Publish(MakeFrame(2, 2, 100, 0)).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("100"), std::string::npos);
  ASSERT_TRUE(pub.value()->Close().ok());
  EXPECT_EQ(pub.value()->Publish(MakeFrame(2, 2, 200, 0)).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(FrameBusSockets, AConnectingPublisherCannotWaitForSubscribers) {
  FramePublisherOptions pub_options;
  pub_options.bind = false;
  auto pub = FramePublisher::Create("tcp://127.0.0.1:9", pub_options);  // connects lazily
  SKIP_WITHOUT_ZMQ(pub);
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  Status s = pub.value()->WaitForSubscribers(1, 10);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("bind the publisher"), std::string::npos) << s.message();
}

TEST(FrameBusSockets, BadEndpointIsInvalidArgument) {
  auto sub = FrameSubscriber::Create("nonsense://x");
  SKIP_WITHOUT_ZMQ(sub);
  EXPECT_EQ(sub.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(sub.status().message().find("nonsense://x"), std::string::npos);
}

}  // namespace
}  // namespace egom2p
