// Streaming input side: resamples frames with strictly increasing timestamps onto a fixed-rate
// grid (8 fps by default) and cuts the grid into overlapping windows (16 frames, hop 4).
// Twin of python/egom2p_edge/streaming/resample.py; tests require identical decisions.
//
// Semantics (the Python docstring states the same rules):
// - Frames get arrival indices 0, 1, 2, ... A timestamp not strictly greater than the previous
//   one is rejected (InvalidArgument naming both timestamps) and gets no index.
// - Grid times are t_g = t_0 + g * period_ns, where t_0 is the first frame's timestamp.
// - Sample g takes the input frame nearest to t_g; a tie (one frame as far before as the other
//   is after) goes to the earlier frame.
// - The sample is valid only when that frame is strictly less than max_gap_ns from t_g;
//   otherwise it is missing (frame index -1) instead of duplicating a frame across a gap. The
//   default max_gap_ns is half the grid period, so no input frame ever fills two grid times.
// - Sample g is decided when the first frame at or after t_g arrives (before that a frame
//   nearer to t_g could still come), or by Finish() at the end of the stream.
// - Window w holds samples [w * hop_frames, w * hop_frames + window_frames); it is emitted as
//   soon as its last sample is decided.
//
// Basic usage:
//   auto r = egom2p::FrameResampler::Create(egom2p::ResampleConfig{});
//   egom2p::ResamplePushResult out;
//   egom2p::Status s = r.value().Push(frame.timestamp_ns, &out);
//   for (const auto& sample : out.samples) { /* preprocess frame sample.frame_index */ }
//   for (const auto& window : out.windows) { /* run the model on window.frame_indices */ }
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "egom2p/status.h"

namespace egom2p {

struct ResampleConfig {
  int64_t period_ns = 125000000;  // grid period: 8 fps
  int window_frames = 16;         // grid samples per window (2 s at 8 fps)
  int hop_frames = 4;             // grid samples between window starts (0.5 s)
  int64_t max_gap_ns = -1;        // a sample's frame must be < this far from t_g; -1: period/2

  Status Validate() const;
  int64_t EffectiveMaxGapNs() const { return max_gap_ns < 0 ? period_ns / 2 : max_gap_ns; }
};

// One decided grid sample.
struct ResampledSample {
  int64_t grid_index = 0;
  int64_t grid_timestamp_ns = 0;
  int64_t frame_index = -1;  // arrival index of the chosen frame; -1 when missing
};

// One window of window_frames grid samples.
struct ResampledWindow {
  int64_t window_index = 0;
  int64_t first_grid_index = 0;             // window_index * hop_frames
  std::vector<int64_t> grid_timestamps_ns;  // (window_frames,)
  std::vector<int64_t> frame_indices;       // (window_frames,), -1 = missing
  int num_valid = 0;                        // samples with frame_index >= 0
};

// What one Push or Finish decided, in grid order.
struct ResamplePushResult {
  std::vector<ResampledSample> samples;
  std::vector<ResampledWindow> windows;
};

class FrameResampler {
 public:
  FrameResampler() = default;
  static Result<FrameResampler> Create(const ResampleConfig& config);

  // Adds the next frame. `out` is cleared, then receives the samples and windows it decided.
  Status Push(int64_t timestamp_ns, ResamplePushResult* out);
  // End of stream: decides the samples the last frame can still fill (those < max_gap_ns after
  // it) and emits the windows they complete. Later pushes fail.
  Status Finish(ResamplePushResult* out);

  const ResampleConfig& config() const { return config_; }
  int64_t frames_pushed() const { return frames_pushed_; }
  int64_t samples_decided() const { return next_grid_; }
  int64_t windows_emitted() const { return next_window_; }
  bool finished() const { return finished_; }
  // The oldest arrival index a future sample or window can still refer to (frames before it can
  // be released); -1 before the first frame.
  int64_t MinFrameIndexNeeded() const;

 private:
  int64_t GridTime(int64_t g) const { return first_timestamp_ns_ + g * config_.period_ns; }
  void Decide(int64_t frame_index, ResamplePushResult* out);
  void EmitWindows(ResamplePushResult* out);

  ResampleConfig config_;
  int64_t max_gap_ns_ = 0;
  bool created_ = false;
  bool finished_ = false;
  int64_t frames_pushed_ = 0;
  int64_t first_timestamp_ns_ = 0;
  int64_t last_timestamp_ns_ = 0;    // valid when frames_pushed_ > 0
  int64_t next_grid_ = 0;            // the first undecided grid sample
  int64_t next_window_ = 0;          // the next window to emit
  int64_t kept_first_grid_ = 0;      // grid index of kept_frames_.front()
  std::deque<int64_t> kept_frames_;  // decided samples from the next window's start on
};

}  // namespace egom2p
