// What a Stream holds (internal, shared by stream.cc and stream_live.cc): the options, the
// resolved decoding and its plan, the input side (caller's thread only) and, under a mutex, the
// timers and the continuous tracks that the window side updates.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "egom2p/decoding.h"
#include "egom2p/runtime.h"
#include "egom2p/stream_frames.h"
#include "egom2p/stream_tracks.h"
#include "egom2p/window_decoder.h"
#include "runtime_state.h"

namespace egom2p {

int64_t SteadyNowUs();

struct StreamImpl {
  std::shared_ptr<const RuntimeState> runtime;
  StreamOptions options;
  ResolvedDecoding decoding;
  std::vector<std::string> target_names;
  std::vector<PlanStep> plan;
  WindowAssembler frames;  // the caller's thread only
  bool finished = false;

  mutable std::mutex mu;  // guards timings and tracks
  StreamTimings timings;
  std::unique_ptr<TrackBuilder> tracks;

  // Input side: checks, resampling, crop + resize (timed as preprocess).
  Status Assemble(const uint8_t* rgb, int height, int width, int64_t timestamp_ns,
                  std::vector<VideoWindow>* windows);
  Status Finish(std::vector<VideoWindow>* windows);
  // Window side: tokenise, decode, detokenise; then, under mu, the timers and the tracks.
  // arrival_us: SteadyNowUs() when the completing frame was pushed.
  Status Predict(const VideoWindow& vw, int64_t arrival_us, WindowPrediction* out);

 private:
  Status Detokenize(const TokenState& st, WindowPrediction* out);
};

}  // namespace egom2p
