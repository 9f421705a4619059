// Tests of the timestamp resampler: nearest-frame choice with ties to the earlier frame, gaps,
// deferred decisions, window emission, rejection of out-of-order frames, Finish and the
// release index.
#include "egom2p/resample.h"

#include <gtest/gtest.h>

#include <vector>

namespace egom2p {
namespace {

constexpr int64_t kMs = 1000000;

FrameResampler Make(ResampleConfig config = {}) {
  auto r = FrameResampler::Create(config);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.value();
}

// Pushes every timestamp; returns all decided frame indices in grid order and all windows.
struct Decisions {
  std::vector<int64_t> frames;
  std::vector<ResampledWindow> windows;
};

Decisions PushAll(FrameResampler* r, const std::vector<int64_t>& timestamps_ns, bool finish) {
  Decisions run;
  ResamplePushResult out;
  auto collect = [&]() {
    for (const auto& s : out.samples) {
      EXPECT_EQ(s.grid_index, static_cast<int64_t>(run.frames.size()));
      run.frames.push_back(s.frame_index);
    }
    for (const auto& w : out.windows) run.windows.push_back(w);
  };
  for (int64_t t : timestamps_ns) {
    Status s = r->Push(t, &out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    collect();
  }
  if (finish) {
    EXPECT_TRUE(r->Finish(&out).ok());
    collect();
  }
  return run;
}

TEST(Resample, ExactGridInputMapsOneToOne) {
  FrameResampler r = Make();
  std::vector<int64_t> ts;
  for (int i = 0; i < 24; ++i) ts.push_back(1000 + i * 125 * kMs);
  Decisions run = PushAll(&r, ts, false);
  ASSERT_EQ(run.frames.size(), 24u);
  for (int g = 0; g < 24; ++g) EXPECT_EQ(run.frames[g], g);
  // Windows start every 4 samples: [0,16) and [4,20) are complete; [8,24) too.
  ASSERT_EQ(run.windows.size(), 3u);
  EXPECT_EQ(run.windows[1].first_grid_index, 4);
  EXPECT_EQ(run.windows[1].frame_indices.front(), 4);
  EXPECT_EQ(run.windows[1].frame_indices.back(), 19);
  EXPECT_EQ(run.windows[1].grid_timestamps_ns.front(), 1000 + 4 * 125 * kMs);
  EXPECT_EQ(run.windows[2].num_valid, 16);
}

TEST(Resample, TwentyFiveFpsPicksNearest) {
  // 40 ms input: grid g at 125 g ms; nearest frames by hand: 0, 3 (120), 6 (240), 9 (360),
  // 12 (480 vs 520: 12), 16 (625 vs 600/640: |640-625|=15 < 25 -> 16).
  FrameResampler r = Make();
  std::vector<int64_t> ts;
  for (int i = 0; i < 30; ++i) ts.push_back(i * 40 * kMs);
  Decisions run = PushAll(&r, ts, false);
  ASSERT_GE(run.frames.size(), 6u);
  EXPECT_EQ(run.frames[0], 0);
  EXPECT_EQ(run.frames[1], 3);
  EXPECT_EQ(run.frames[2], 6);
  EXPECT_EQ(run.frames[3], 9);
  EXPECT_EQ(run.frames[4], 12);
  EXPECT_EQ(run.frames[5], 16);
}

TEST(Resample, TiesGoToTheEarlierFrame) {
  // 50 ms input: grid 125 ms lies exactly between frames 2 (100) and 3 (150).
  FrameResampler r = Make();
  Decisions run = PushAll(&r, {0, 50 * kMs, 100 * kMs, 150 * kMs, 200 * kMs, 250 * kMs}, false);
  ASSERT_EQ(run.frames.size(), 3u);
  EXPECT_EQ(run.frames[1], 2);
  EXPECT_EQ(run.frames[2], 5);  // 250 exactly
}

TEST(Resample, DecisionWaitsForAFrameAtOrAfterTheGridTime) {
  FrameResampler r = Make();
  ResamplePushResult out;
  ASSERT_TRUE(r.Push(0, &out).ok());
  ASSERT_TRUE(r.Push(121 * kMs, &out).ok());
  EXPECT_TRUE(out.samples.empty());  // a frame nearer to 125 ms could still come
  EXPECT_EQ(r.samples_decided(), 1);
  ASSERT_TRUE(r.Push(130 * kMs, &out).ok());
  ASSERT_EQ(out.samples.size(), 1u);
  EXPECT_EQ(out.samples[0].frame_index, 1);  // 121 is 4 ms away, 130 is 5 ms away
  EXPECT_EQ(out.samples[0].grid_timestamp_ns, 125 * kMs);
}

TEST(Resample, GapMarksSamplesMissingInsteadOfDuplicating) {
  // Frames at 0 and 10 ms, then nothing until 500 ms: grid 125/250/375 have no frame within
  // 62.5 ms (the default max gap), 500 is exact.
  FrameResampler r = Make();
  Decisions run = PushAll(&r, {0, 10 * kMs, 500 * kMs}, false);
  EXPECT_EQ(run.frames, (std::vector<int64_t>{0, -1, -1, -1, 2}));
}

TEST(Resample, MaxGapIsStrict) {
  ResampleConfig config;
  config.max_gap_ns = 20 * kMs;
  FrameResampler r = Make(config);
  // 125 ms: nearest 105 (20 ms: not < 20, missing); 250 ms: nearest 231 (19 ms: valid);
  // 375 ms: nearest 400 (25 ms: missing).
  Decisions run = PushAll(&r, {0, 105 * kMs, 231 * kMs, 400 * kMs}, false);
  EXPECT_EQ(run.frames, (std::vector<int64_t>{0, -1, 2, -1}));
}

TEST(Resample, WindowIsEmittedWhenItsLastSampleIsDecided) {
  ResampleConfig config;
  config.window_frames = 4;
  config.hop_frames = 2;
  FrameResampler r = Make(config);
  ResamplePushResult out;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(r.Push(i * 125 * kMs, &out).ok());
    EXPECT_EQ(out.windows.size(), i == 3 ? 1u : 0u) << "frame " << i;
  }
  EXPECT_EQ(out.windows[0].frame_indices, (std::vector<int64_t>{0, 1, 2, 3}));
  ASSERT_TRUE(r.Push(5 * 125 * kMs, &out).ok());  // decides 4 and 5 at once
  ASSERT_EQ(out.windows.size(), 1u);
  EXPECT_EQ(out.windows[0].window_index, 1);
  EXPECT_EQ(out.windows[0].frame_indices, (std::vector<int64_t>{2, 3, -1, 4}));
  EXPECT_EQ(out.windows[0].num_valid, 3);
}

TEST(Resample, HopLongerThanWindowSkipsSamples) {
  ResampleConfig config;
  config.window_frames = 2;
  config.hop_frames = 3;
  FrameResampler r = Make(config);
  std::vector<int64_t> ts;
  for (int i = 0; i < 9; ++i) ts.push_back(i * 125 * kMs);
  Decisions run = PushAll(&r, ts, false);
  ASSERT_EQ(run.windows.size(), 3u);
  EXPECT_EQ(run.windows[2].frame_indices, (std::vector<int64_t>{6, 7}));
}

TEST(Resample, RejectsOutOfOrderAndRepeatedTimestampsNamingBoth) {
  FrameResampler r = Make();
  ResamplePushResult out;
  ASSERT_TRUE(r.Push(200, &out).ok());
  Status back = r.Push(150, &out);
  EXPECT_EQ(back.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(back.message().find("150"), std::string::npos);
  EXPECT_NE(back.message().find("200"), std::string::npos);
  EXPECT_FALSE(r.Push(200, &out).ok());
  EXPECT_EQ(r.frames_pushed(), 1);  // rejected frames get no index
  ASSERT_TRUE(r.Push(201, &out).ok());
  EXPECT_EQ(r.frames_pushed(), 2);
}

TEST(Resample, FinishFillsWhatTheLastFrameReaches) {
  FrameResampler r = Make();
  ResamplePushResult out;
  ASSERT_TRUE(r.Push(0, &out).ok());
  ASSERT_TRUE(r.Push(70 * kMs, &out).ok());  // 125 ms is 55 ms after it (< 62.5)
  ASSERT_TRUE(r.Finish(&out).ok());
  ASSERT_EQ(out.samples.size(), 1u);
  EXPECT_EQ(out.samples[0].frame_index, 1);
  EXPECT_TRUE(r.finished());
  EXPECT_EQ(r.Push(1000 * kMs, &out).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(r.Finish(&out).ok());  // idempotent
  EXPECT_TRUE(out.samples.empty());
}

TEST(Resample, MinFrameIndexNeeded) {
  ResampleConfig config;
  config.window_frames = 2;
  config.hop_frames = 2;
  FrameResampler r = Make(config);
  EXPECT_EQ(r.MinFrameIndexNeeded(), -1);
  ResamplePushResult out;
  // 50 ms input: grid 0 -> frame 0, 125 -> frame 2 (tie), 250 -> frame 5.
  for (int i = 0; i <= 5; ++i) ASSERT_TRUE(r.Push(i * 50 * kMs, &out).ok());
  // Window [0,2) is out; sample 2 (frame 5) is kept for window [2,4); frame 5 is also the last.
  EXPECT_EQ(r.windows_emitted(), 1);
  EXPECT_EQ(r.MinFrameIndexNeeded(), 5);
  ASSERT_TRUE(r.Push(6 * 50 * kMs, &out).ok());
  EXPECT_EQ(r.MinFrameIndexNeeded(), 5);  // still in window [2,4)
}

TEST(Resample, ValidatesConfig) {
  ResampleConfig bad;
  bad.period_ns = 0;
  EXPECT_EQ(FrameResampler::Create(bad).status().code(), StatusCode::kInvalidArgument);
  bad = {};
  bad.window_frames = 0;
  EXPECT_FALSE(FrameResampler::Create(bad).ok());
  bad = {};
  bad.hop_frames = 0;
  EXPECT_FALSE(FrameResampler::Create(bad).ok());
  bad = {};
  bad.max_gap_ns = 0;
  EXPECT_NE(FrameResampler::Create(bad).status().message().find("max_gap_ns"), std::string::npos);
  FrameResampler uncreated;
  ResamplePushResult out;
  EXPECT_EQ(uncreated.Push(0, &out).code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace egom2p
