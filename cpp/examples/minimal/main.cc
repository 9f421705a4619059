// A minimal C++ user of the EgoM2P runtime: loads a bundle, streams three seconds of synthetic
// 30-fps frames through a joint-mode stream, prints each window's last gaze point (pixels) and
// camera position, then the continuous trajectory's length and the per-window latency.
//
//   egom2p_minimal BUNDLE_DIR
#include <cstdint>
#include <cstdio>
#include <vector>

#include "egom2p/runtime.h"

namespace {

// A 240 x 320 RGB frame: a diagonal gradient that moves one pixel per frame.
std::vector<uint8_t> SyntheticFrame(int index, int height, int width) {
  std::vector<uint8_t> rgb(static_cast<size_t>(height) * width * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
      p[0] = static_cast<uint8_t>(x + index);
      p[1] = static_cast<uint8_t>(y * 2);
      p[2] = static_cast<uint8_t>((x + y) / 2);
    }
  }
  return rgb;
}

void Print(const egom2p::WindowPrediction& p) {
  const int t = p.trajectory_samples;
  std::printf("window %lld at %.3f s:", static_cast<long long>(p.window_index),
              static_cast<double>(p.timestamp_ns) * 1e-9);
  if (!p.gaze_xy_norm.empty()) {
    std::printf(" gaze (%.3f, %.3f)", p.gaze_xy_norm[(t - 1) * 2], p.gaze_xy_norm[(t - 1) * 2 + 1]);
  }
  if (!p.T_window_camera.empty()) {
    const float* m = &p.T_window_camera[(t - 1) * 16];
    std::printf(" camera (%.3f, %.3f, %.3f) m", m[3], m[7], m[11]);
  }
  std::printf(" latency %.1f ms\n", static_cast<double>(p.latency_us) / 1e3);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: egom2p_minimal BUNDLE_DIR\n");
    return 2;
  }
  auto runtime = egom2p::Runtime::Load(argv[1]);
  if (!runtime.ok()) {
    std::fprintf(stderr, "%s\n", runtime.status().ToString().c_str());
    return 1;
  }
  egom2p::StreamOptions options;
  options.mode = "joint";
  auto stream = runtime.value()->CreateStream(options);
  if (!stream.ok()) {
    std::fprintf(stderr, "%s\n", stream.status().ToString().c_str());
    return 1;
  }
  const int height = 240, width = 320;
  std::vector<egom2p::WindowPrediction> predictions;
  for (int i = 0; i < 90; ++i) {
    const std::vector<uint8_t> rgb = SyntheticFrame(i, height, width);
    const int64_t timestamp_ns = static_cast<int64_t>(i) * 1000000000 / 30;
    egom2p::Status s = stream.value()->Push(rgb.data(), height, width, timestamp_ns, &predictions);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
    for (const auto& p : predictions) Print(p);
  }
  if (egom2p::Status s = stream.value()->Flush(&predictions); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  for (const auto& p : predictions) Print(p);
  egom2p::Trajectory trajectory;
  stream.value()->GetTrajectory(INT64_MIN, &trajectory);
  const egom2p::StreamTimings timings = stream.value()->timings();
  std::printf("trajectory: %zu poses at 30 Hz; window p50 %.1f ms, p99 %.1f ms\n",
              trajectory.size(), static_cast<double>(timings.window.Percentile(50)) / 1e3,
              static_cast<double>(timings.window.Percentile(99)) / 1e3);
  return 0;
}
