// The input side of a stream: timestamped RGB frames -> windows of preprocessed video frames.
// Twin of python/egom2p_edge/pipeline/windows.py: each frame's timestamp goes through the
// resampler (egom2p/resample.h); a grid sample that picks a frame gets it centre-cropped and
// area-resized to S x S once (egom2p/preprocess.h); a window is emitted when its last sample is
// decided; a missing sample repeats the nearest earlier filled sample of the window (the first
// filled one when none is earlier); a window without any filled sample is skipped.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "egom2p/preprocess.h"
#include "egom2p/resample.h"
#include "egom2p/runtime.h"
#include "egom2p/status.h"

namespace egom2p {

// One window's frames: (F, S, S, 3) uint8, row-major; the input frame size of its last filled
// sample (to map gaze back to pixels).
struct VideoWindow {
  ResampledWindow window;
  std::vector<uint8_t> frames;
  int missing_frames = 0;
  int image_height = 0;
  int image_width = 0;
};

class WindowAssembler {
 public:
  WindowAssembler() = default;
  // size: S; fps: the video rate (period 1e9 / fps ns, integer division).
  static Result<WindowAssembler> Create(int size, int fps, int window_frames, int hop_frames);

  // `rgb`: (height, width, 3) uint8 HWC. `out` is cleared, then receives completed windows.
  // InvalidArgument for a bad frame or timestamp (not after the previous one, or more than an
  // hour after it: a clock reset); the stream state is then unchanged.
  Status Push(const uint8_t* rgb, int height, int width, int64_t timestamp_ns,
              StageTimer* preprocess, std::vector<VideoWindow>* out);
  // End of stream (see FrameResampler::Finish).
  Status Finish(StageTimer* preprocess, std::vector<VideoWindow>* out);

  int64_t frames_pushed() const { return resampler_.frames_pushed(); }

 private:
  // The resized frame as sample `grid_index` (empty: missing).
  Status Store(int64_t grid_index, const uint8_t* rgb, int height, int width);
  void EmitWindows(const std::vector<ResampledWindow>& windows, std::vector<VideoWindow>* out);

  int size_ = 0;
  FrameResampler resampler_;
  std::vector<uint8_t> prev_;  // the last pushed frame
  int prev_height_ = 0;
  int prev_width_ = 0;
  int64_t last_ns_ = 0;                              // the last pushed frame's timestamp
  std::map<int64_t, std::vector<uint8_t>> samples_;  // grid index -> S*S*3, empty = missing
  std::map<int64_t, std::pair<int, int>> sizes_;     // grid index -> its frame's (H, W)
  // One resizer per input geometry (frames may change size mid-stream).
  std::map<std::pair<int, int>, CenterCropResizer> resizers_;
};

}  // namespace egom2p
