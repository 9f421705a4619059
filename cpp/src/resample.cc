// Timestamp resampling onto a fixed-rate grid and windowing (twin of streaming/resample.py).
#include "egom2p/resample.h"

#include <algorithm>
#include <string>

namespace egom2p {
namespace {

Status Invalid(const std::string& message) { return Status(StatusCode::kInvalidArgument, message); }

}  // namespace

Status ResampleConfig::Validate() const {
  if (period_ns <= 0) {
    return Invalid("resample config: period_ns must be > 0, got " + std::to_string(period_ns));
  }
  if (window_frames < 1) {
    return Invalid("resample config: window_frames must be >= 1, got " +
                   std::to_string(window_frames));
  }
  if (hop_frames < 1) {
    return Invalid("resample config: hop_frames must be >= 1, got " + std::to_string(hop_frames));
  }
  if (max_gap_ns != -1 && max_gap_ns <= 0) {
    return Invalid("resample config: max_gap_ns must be > 0 (or -1 for half the period), got " +
                   std::to_string(max_gap_ns));
  }
  return Status::Ok();
}

Result<FrameResampler> FrameResampler::Create(const ResampleConfig& config) {
  Status s = config.Validate();
  if (!s.ok()) return s;
  FrameResampler r;
  r.config_ = config;
  r.max_gap_ns_ = config.EffectiveMaxGapNs();
  r.created_ = true;
  return r;
}

Status FrameResampler::Push(int64_t timestamp_ns, ResamplePushResult* out) {
  if (out == nullptr) return Invalid("resampler: null output");
  out->samples.clear();
  out->windows.clear();
  if (!created_) return Status(StatusCode::kFailedPrecondition, "resampler: not created");
  if (finished_) {
    return Status(StatusCode::kFailedPrecondition,
                  "resampler: frame timestamp_ns " + std::to_string(timestamp_ns) +
                      " pushed after Finish(); create a new resampler for a new stream");
  }
  if (frames_pushed_ > 0 && timestamp_ns <= last_timestamp_ns_) {
    return Invalid("resampler: frame timestamp_ns " + std::to_string(timestamp_ns) +
                   " is not after the previous frame's timestamp_ns " +
                   std::to_string(last_timestamp_ns_) +
                   " (timestamps must strictly increase; drop or reorder the frame)");
  }
  const int64_t index = frames_pushed_;
  if (index == 0) first_timestamp_ns_ = timestamp_ns;
  // Every undecided grid time at or before this frame is decided now: its candidates are this
  // frame (at or after it) and the previous frame (before it, else it would have been decided).
  for (int64_t t_g = GridTime(next_grid_); t_g <= timestamp_ns; t_g = GridTime(next_grid_)) {
    int64_t chosen = index;
    int64_t distance_ns = timestamp_ns - t_g;
    if (index > 0 && t_g - last_timestamp_ns_ <= distance_ns) {  // ties go to the earlier frame
      chosen = index - 1;
      distance_ns = t_g - last_timestamp_ns_;
    }
    Decide(distance_ns < max_gap_ns_ ? chosen : -1, out);
  }
  last_timestamp_ns_ = timestamp_ns;
  ++frames_pushed_;
  EmitWindows(out);
  return Status::Ok();
}

Status FrameResampler::Finish(ResamplePushResult* out) {
  if (out == nullptr) return Invalid("resampler: null output");
  out->samples.clear();
  out->windows.clear();
  if (!created_) return Status(StatusCode::kFailedPrecondition, "resampler: not created");
  if (finished_) return Status::Ok();
  finished_ = true;
  if (frames_pushed_ == 0) return Status::Ok();
  // No later frame will come: the last frame is the nearest for every later grid time, and
  // fills those it is close enough to.
  while (GridTime(next_grid_) - last_timestamp_ns_ < max_gap_ns_) Decide(frames_pushed_ - 1, out);
  EmitWindows(out);
  return Status::Ok();
}

void FrameResampler::Decide(int64_t frame_index, ResamplePushResult* out) {
  ResampledSample sample;
  sample.grid_index = next_grid_;
  sample.grid_timestamp_ns = GridTime(next_grid_);
  sample.frame_index = frame_index;
  out->samples.push_back(sample);
  kept_frames_.push_back(frame_index);  // invariant: kept_first_grid_ + size == next_grid_
  ++next_grid_;
}

void FrameResampler::EmitWindows(ResamplePushResult* out) {
  const int64_t hop = config_.hop_frames;
  const int64_t length = config_.window_frames;
  while (next_window_ * hop + length <= next_grid_) {
    ResampledWindow w;
    w.window_index = next_window_;
    w.first_grid_index = next_window_ * hop;
    w.grid_timestamps_ns.reserve(length);
    w.frame_indices.reserve(length);
    for (int64_t g = w.first_grid_index; g < w.first_grid_index + length; ++g) {
      const int64_t frame = kept_frames_[static_cast<size_t>(g - kept_first_grid_)];
      w.grid_timestamps_ns.push_back(GridTime(g));
      w.frame_indices.push_back(frame);
      if (frame >= 0) ++w.num_valid;
    }
    out->windows.push_back(std::move(w));
    ++next_window_;
    // Samples before the next window's start are in no future window.
    while (!kept_frames_.empty() && kept_first_grid_ < next_window_ * hop) {
      kept_frames_.pop_front();
      ++kept_first_grid_;
    }
  }
}

int64_t FrameResampler::MinFrameIndexNeeded() const {
  if (frames_pushed_ == 0) return -1;
  // The last frame may still be the nearest for the next grid time, unless the stream ended.
  int64_t needed = finished_ ? frames_pushed_ : frames_pushed_ - 1;
  const int64_t start = next_window_ * config_.hop_frames;
  for (size_t i = 0; i < kept_frames_.size(); ++i) {
    const int64_t frame = kept_frames_[i];
    if (kept_first_grid_ + static_cast<int64_t>(i) >= start && frame >= 0) {
      needed = std::min(needed, frame);
    }
  }
  return needed;
}

}  // namespace egom2p
