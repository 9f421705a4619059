// Continuous output: window predictions stitched into one camera trajectory in the stream's world
// frame and one gaze track (normalised and in the caller's pixels), each sample with its
// timestamp_ns, a confidence from the token probabilities and whether it is final. The twin of
// python/egom2p_edge/streaming/tracks.py, whose docstring states the algorithm (30-Hz stream
// samples; each window weighted by a taper times its token confidence; camera windows anchored
// by composing relative motion on the overlap; final samples never change again).
//
// Basic usage (a Stream owns one and feeds it; read it with Stream::GetTrajectory):
//   egom2p::TrackBuilder tracks(egom2p::TrackConfig{});
//   tracks.Add(prediction);                      // in window order
//   egom2p::Trajectory trajectory;
//   tracks.GetTrajectory(INT64_MIN, &trajectory);
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "egom2p/status.h"

namespace egom2p {

struct WindowPrediction;  // egom2p/runtime.h

struct TrackConfig {
  int rate_hz = 30;        // trajectory samples per second
  int fps = 8;             // video rate
  int hop_frames = 4;      // window hop in video samples
  int samples = 60;        // T per window
  int tokens = 30;         // K per window
  double history_s = 0.0;  // seconds of final samples kept; 0 = all
  Status Validate() const;
};

// The camera trajectory, N samples.
struct Trajectory {
  std::vector<int64_t> timestamp_ns;   // (N,)
  std::vector<double> T_world_camera;  // (N, 4, 4) row-major; world = first sample's camera
  std::vector<double> confidence;      // (N,) in [0, 1]
  std::vector<uint8_t> final;          // (N,) 1 = will not change any more
  size_t size() const { return timestamp_ns.size(); }
};

// The gaze track, N samples.
struct GazeTrack {
  std::vector<int64_t> timestamp_ns;  // (N,)
  std::vector<double> gaze_xy_norm;   // (N, 2) in the square crop, [0, 1], x right, y down
  std::vector<double> gaze_xy_px;     // (N, 2) pixels of the caller's frames
  std::vector<double> confidence;     // (N,)
  std::vector<uint8_t> final;         // (N,)
  size_t size() const { return timestamp_ns.size(); }
};

class TrackBuilder {
 public:
  explicit TrackBuilder(const TrackConfig& config);
  ~TrackBuilder();
  TrackBuilder(TrackBuilder&&) noexcept;
  TrackBuilder& operator=(TrackBuilder&&) noexcept;

  // One window's outputs, in window order (tok_cam / tok_gaze probabilities weight them).
  void Add(const WindowPrediction& prediction);
  // End of stream: every sample becomes final.
  void Finish();
  // The samples at or after since_ns (INT64_MIN: all kept samples).
  void GetTrajectory(int64_t since_ns, Trajectory* out) const;
  void GetGazeTrack(int64_t since_ns, GazeTrack* out) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace egom2p
