// The continuous tracks (egom2p/stream_tracks.h) on windows cut from a known smooth motion:
// stitched back exactly on the 30-Hz stream grid (whole and fractional hops), final samples,
// gaps, history, gaze in pixels. The Python twin is tested the same way, and the pytest suite
// checks that Runtime and ReferencePipeline give identical tracks.
#include "egom2p/stream_tracks.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "egom2p/runtime.h"

namespace egom2p {
namespace {

constexpr int kRate = 30, kFps = 8, kT = 60;
constexpr int64_t kT0 = 1000000000;

using Mat4 = std::array<double, 16>;

Mat4 Mul(const Mat4& a, const Mat4& b) {
  Mat4 c{};
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      for (int k = 0; k < 4; ++k) c[i * 4 + j] += a[i * 4 + k] * b[k * 4 + j];
    }
  }
  return c;
}

Mat4 InvRigid(const Mat4& m) {  // [R t; 0 1]^-1 = [R^T -R^T t; 0 1]
  Mat4 o{};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) o[i * 4 + j] = m[j * 4 + i];
    o[i * 4 + 3] = -(m[0 * 4 + i] * m[3] + m[1 * 4 + i] * m[7] + m[2 * 4 + i] * m[11]);
  }
  o[15] = 1.0;
  return o;
}

// The known motion: rotation about a tilted axis at 0.6 rad/s (Rodrigues), a curved path.
Mat4 GroundTruth(double t) {
  const double n = std::sqrt(0.01 + 1.0 + 0.09);
  const double ax = 0.1 / n, ay = 1.0 / n, az = 0.3 / n, th = 0.6 * t;
  const double c = std::cos(th), s = std::sin(th), C = 1.0 - c;
  return {c + ax * ax * C,
          ax * ay * C - az * s,
          ax * az * C + ay * s,
          0.5 * t,
          ay * ax * C + az * s,
          c + ay * ay * C,
          ay * az * C - ax * s,
          0.1 * std::sin(2.0 * t),
          az * ax * C - ay * s,
          az * ay * C + ax * s,
          c + az * az * C,
          0.2 * t,
          0,
          0,
          0,
          1};
}

WindowPrediction MakeWindow(int64_t w, int hop) {
  WindowPrediction p;
  p.window_index = w;
  p.start_timestamp_ns = kT0 + w * hop * 125000000;
  p.image_height = 96;
  p.image_width = 160;
  p.trajectory_samples = kT;
  const double start = static_cast<double>(w * hop) / kFps;
  const Mat4 base = InvRigid(GroundTruth(start));
  for (int j = 0; j < kT; ++j) {
    const double t = start + static_cast<double>(j) / kRate;
    const Mat4 local = Mul(base, GroundTruth(t));
    for (double v : local) p.T_window_camera.push_back(static_cast<float>(v));
    p.gaze_xy_norm.push_back(static_cast<float>(0.5 + 0.2 * std::sin(t)));
    p.gaze_xy_norm.push_back(static_cast<float>(0.5 + 0.1 * std::cos(t)));
  }
  p.targets.push_back(
      TargetPrediction{"tok_cam", std::vector<int64_t>(30, 1), std::vector<float>(30, 0.9f)});
  return p;
}

TrackBuilder Build(int windows, int hop, double history_s = 0.0, bool finish = false) {
  TrackConfig c;
  c.hop_frames = hop;
  c.history_s = history_s;
  EXPECT_TRUE(c.Validate().ok());
  TrackBuilder tb(c);
  for (int w = 0; w < windows; ++w) tb.Add(MakeWindow(w, hop));
  if (finish) tb.Finish();
  return tb;
}

double MaxPoseError(const Trajectory& tr) {
  const Mat4 first = InvRigid(GroundTruth(0.0));
  double err = 0.0;
  for (size_t n = 0; n < tr.size(); ++n) {
    const Mat4 want = Mul(first, GroundTruth(static_cast<double>(n) / kRate));
    for (int k = 0; k < 16; ++k) {
      err = std::max(err, std::abs(tr.T_world_camera[n * 16 + k] - want[k]));
    }
  }
  return err;
}

TEST(StreamTracks, KnownMotionIsStitchedExactly) {
  TrackBuilder tb = Build(6, 4);
  Trajectory tr;
  tb.GetTrajectory(INT64_MIN, &tr);
  ASSERT_EQ(tr.size(), static_cast<size_t>(5 * 15 + kT));
  EXPECT_EQ(tr.timestamp_ns[0], kT0);
  EXPECT_EQ(tr.timestamp_ns[1], kT0 + 33333333);
  EXPECT_EQ(tr.timestamp_ns[2], kT0 + 66666667);
  EXPECT_EQ(tr.timestamp_ns[15], kT0 + 500000000);
  EXPECT_LT(MaxPoseError(tr), 2e-6);
  EXPECT_NEAR(tr.confidence[10], 0.9, 1e-6);
  int finals = 0;
  for (uint8_t f : tr.final) finals += f;
  EXPECT_EQ(finals, 6 * 15);  // before window 6's first sample
  TrackBuilder done = Build(6, 4, 0.0, true);
  done.GetTrajectory(INT64_MIN, &tr);
  for (uint8_t f : tr.final) EXPECT_EQ(f, 1);
}

TEST(StreamTracks, FractionalHopInterpolates) {
  TrackBuilder tb = Build(5, 3);  // 11.25 samples per hop
  Trajectory tr;
  tb.GetTrajectory(INT64_MIN, &tr);
  ASSERT_EQ(tr.size(), static_cast<size_t>((4 * 3 * kRate + (kT - 1) * kFps) / kFps + 1));
  EXPECT_LT(MaxPoseError(tr), 2e-4);
}

TEST(StreamTracks, GapContinuesFromTheLastPose) {
  TrackConfig c;
  TrackBuilder tb(c);
  for (int w : {0, 1, 2, 8, 9}) tb.Add(MakeWindow(w, 4));
  Trajectory tr;
  tb.GetTrajectory(INT64_MIN, &tr);
  size_t gap = 0;
  for (size_t i = 1; i < tr.size(); ++i) {
    if (tr.timestamp_ns[i] - tr.timestamp_ns[i - 1] > 40000000) gap = i;
  }
  ASSERT_GT(gap, 0u);
  for (int k = 0; k < 16; ++k) {
    EXPECT_NEAR(tr.T_world_camera[gap * 16 + k], tr.T_world_camera[(gap - 1) * 16 + k], 1e-9);
  }
}

TEST(StreamTracks, SinceAndHistoryBoundTheOutput) {
  Trajectory full, cut, kept;
  Build(10, 4, 0.0, true).GetTrajectory(INT64_MIN, &full);
  Build(10, 4, 0.0, true).GetTrajectory(full.timestamp_ns[100], &cut);
  ASSERT_EQ(cut.size(), full.size() - 100);
  EXPECT_EQ(cut.timestamp_ns[0], full.timestamp_ns[100]);
  Build(10, 4, 2.0, true).GetTrajectory(INT64_MIN, &kept);
  ASSERT_EQ(kept.size(), 60u);
  EXPECT_EQ(kept.timestamp_ns[0], full.timestamp_ns[full.size() - 60]);
}

TEST(StreamTracks, GazeIsMappedBackToPixels) {
  GazeTrack g;
  Build(4, 4).GetGazeTrack(INT64_MIN, &g);
  ASSERT_EQ(g.size(), static_cast<size_t>(3 * 15 + kT));
  for (size_t n = 0; n < g.size(); ++n) {
    const double t = static_cast<double>(n) / kRate;
    EXPECT_NEAR(g.gaze_xy_norm[2 * n], 0.5 + 0.2 * std::sin(t), 1e-6);
    // (96, 160) frames: a 96-pixel centre crop starting at x = 32
    EXPECT_DOUBLE_EQ(g.gaze_xy_px[2 * n], g.gaze_xy_norm[2 * n] * 96 + 32);
    EXPECT_DOUBLE_EQ(g.gaze_xy_px[2 * n + 1], g.gaze_xy_norm[2 * n + 1] * 96);
    EXPECT_NEAR(g.confidence[n], 1.0, 1e-12);  // no tok_gaze probabilities: 1
  }
}

TEST(StreamTracks, BadConfigIsRefused) {
  TrackConfig c;
  c.hop_frames = 0;
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
  c = TrackConfig();
  c.history_s = -1;
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace egom2p
