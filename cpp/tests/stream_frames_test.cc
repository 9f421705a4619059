// Tests of the stream's input side: windows complete on the right frame, frames are cropped and
// resized, a gap repeats the previous sample, a bad timestamp leaves the stream usable.
#include "egom2p/stream_frames.h"

#include <gtest/gtest.h>

#include <vector>

namespace egom2p {
namespace {

constexpr int64_t kPeriod = 125000000;

// A solid frame of value `v` (crop + resize keep it exactly).
std::vector<uint8_t> Solid(int h, int w, uint8_t v) { return std::vector<uint8_t>(h * w * 3, v); }

WindowAssembler Make(int hop = 4) {
  Result<WindowAssembler> a = WindowAssembler::Create(8, 8, 16, hop);
  EXPECT_TRUE(a.ok()) << a.status().ToString();
  return std::move(a.value());
}

TEST(WindowAssembler, EmitsWindowsWhenTheirLastSampleIsDecided) {
  WindowAssembler a = Make();
  StageTimer timer;
  std::vector<VideoWindow> out;
  std::vector<int> emitted;
  for (int i = 0; i < 24; ++i) {
    std::vector<uint8_t> f = Solid(12, 20, static_cast<uint8_t>(i));
    ASSERT_TRUE(a.Push(f.data(), 12, 20, 1000 + i * kPeriod, &timer, &out).ok());
    for (const auto& w : out) {
      emitted.push_back(i);
      ASSERT_EQ(w.frames.size(), 16u * 8 * 8 * 3);
      for (int k = 0; k < 16; ++k) {  // sample k of window w is frame 4w + k
        EXPECT_EQ(w.frames[k * 8 * 8 * 3], 4 * w.window.window_index + k);
      }
      EXPECT_EQ(w.missing_frames, 0);
    }
  }
  EXPECT_EQ(emitted, (std::vector<int>{15, 19, 23}));
  EXPECT_EQ(timer.count, 24);
}

TEST(WindowAssembler, GapsRepeatTheEarlierSample) {
  WindowAssembler a = Make();
  std::vector<VideoWindow> out, all;
  for (int i = 0; i < 20; ++i) {
    if (i == 4 || i == 5 || i == 10) continue;  // samples 4, 5, 10 missing
    std::vector<uint8_t> f = Solid(8, 8, static_cast<uint8_t>(100 + i));
    ASSERT_TRUE(a.Push(f.data(), 8, 8, 1000 + i * kPeriod, nullptr, &out).ok());
    all.insert(all.end(), out.begin(), out.end());
  }
  ASSERT_EQ(all.size(), 2u);
  const size_t n = 8 * 8 * 3;
  // Window 0 (samples 0..15): 4, 5 take sample 3; 10 takes 9.
  EXPECT_EQ(all[0].missing_frames, 3);
  EXPECT_EQ(all[0].frames[4 * n], 103);
  EXPECT_EQ(all[0].frames[5 * n], 103);
  EXPECT_EQ(all[0].frames[10 * n], 109);
  EXPECT_EQ(all[0].frames[11 * n], 111);
  // Window 1 (samples 4..19) starts in the gap: its leading samples take its first filled one.
  EXPECT_EQ(all[1].missing_frames, 3);
  EXPECT_EQ(all[1].frames[0 * n], 106);
  EXPECT_EQ(all[1].frames[1 * n], 106);
  EXPECT_EQ(all[1].frames[6 * n], 109);
}

TEST(WindowAssembler, BadInputLeavesTheStreamUsable) {
  WindowAssembler a = Make();
  std::vector<VideoWindow> out;
  std::vector<uint8_t> f = Solid(8, 8, 1);
  ASSERT_TRUE(a.Push(f.data(), 8, 8, 5000, nullptr, &out).ok());
  Status s = a.Push(f.data(), 8, 8, 5000, nullptr, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("5000"), std::string::npos) << s.message();
  EXPECT_EQ(a.Push(nullptr, 8, 8, 6000, nullptr, &out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(a.Push(f.data(), 0, 8, 6000, nullptr, &out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(a.frames_pushed(), 1);
  EXPECT_TRUE(a.Push(f.data(), 8, 8, 6000, nullptr, &out).ok());
  EXPECT_FALSE(WindowAssembler::Create(0, 8, 16, 4).ok());
  EXPECT_FALSE(WindowAssembler::Create(8, 8, 16, 0).ok());
}

TEST(WindowAssembler, FinishDecidesTheLastSamples) {
  WindowAssembler a = Make();
  std::vector<VideoWindow> out;
  for (int i = 0; i < 15; ++i) {  // samples 0..14 decided by the next frame; 15 by Finish
    std::vector<uint8_t> f = Solid(8, 8, 1);
    ASSERT_TRUE(a.Push(f.data(), 8, 8, i * kPeriod + 10, nullptr, &out).ok());
    EXPECT_TRUE(out.empty());
  }
  std::vector<uint8_t> f = Solid(8, 8, 1);
  ASSERT_TRUE(a.Push(f.data(), 8, 8, 15 * kPeriod - 10, nullptr, &out).ok());
  EXPECT_TRUE(out.empty());  // sample 15 could still get a nearer frame
  ASSERT_TRUE(a.Finish(nullptr, &out).ok());
  EXPECT_EQ(out.size(), 1u);
}

TEST(WindowAssembler, RefusesAClockJumpAndRecordsTheFrameSize) {
  WindowAssembler a = Make();
  StageTimer timer;
  std::vector<VideoWindow> out;
  std::vector<uint8_t> f = Solid(12, 20, 7);
  ASSERT_TRUE(a.Push(f.data(), 12, 20, INT64_MIN + 1, &timer, &out).ok());
  Status s = a.Push(f.data(), 12, 20, INT64_MAX, &timer, &out);  // no overflow: refused
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("start a new stream"), std::string::npos) << s.message();
  WindowAssembler b = Make();
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(b.Push(f.data(), 12, 20, i * kPeriod, &timer, &out).ok());
  }
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].image_height, 12);
  EXPECT_EQ(out[0].image_width, 20);
}

}  // namespace
}  // namespace egom2p
