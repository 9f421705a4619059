// Frame preprocessing: square centre crop + integer-exact area resize, and the gaze mapping
// between original image pixels and the normalised square crop. Bit-identical twin of
// python/egom2p_edge/preprocess.py (its docstring specifies the algorithm).
//
// Basic usage (one resizer per stream and input size; per-frame calls allocate nothing):
//   auto r = egom2p::CenterCropResizer::Create(/*height=*/1408, /*width=*/1408,
//                                              /*channels=*/3, /*size=*/256);
//   if (!r.ok()) return r.status();
//   std::vector<uint8_t> out(r.value().output_bytes_u8());
//   egom2p::Status s = r.value().ResizeU8(frame_hwc, frame_bytes, out.data(), out.size());
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "egom2p/status.h"

namespace egom2p {

// The square centre crop of an H x W image: side = min(H, W) (or a given smaller crop_side,
// e.g. EgoM2P's 480 x 480 crop of 896 x 504 HoloAssist frames), top = (H - side) / 2,
// left = (W - side) / 2 (integer division).
struct CropBox {
  int top = 0;
  int left = 0;
  int side = 0;
};

// crop_side 0 means min(H, W); otherwise it must lie in [1, min(H, W)].
Result<CropBox> ComputeCropBox(int height, int width, int crop_side = 0);

// Area-resampling taps from `src` to `dst` samples along one axis. Output pixel i covers
// [i*src, (i+1)*src) and source pixel j covers [j*dst, (j+1)*dst) in the common scaled
// coordinate; the weight is the integer length of their overlap, so each output's weights sum to
// `src`. Layout: row-major (dst, taps_per_output), ascending source index per output; padding
// taps have weight 0 and index clamped to src - 1.
struct AreaTaps {
  int src = 0;
  int dst = 0;
  int taps_per_output = 0;
  std::vector<int32_t> index;   // (dst, taps_per_output)
  std::vector<int64_t> weight;  // (dst, taps_per_output)
};

Result<AreaTaps> ComputeAreaTaps(int src, int dst);

// Centre crop + area resize of one fixed input geometry (height, width, channels) to
// size x size. The taps are computed once in Create; Resize* reuse one row of scratch, so a
// resizer is not safe to call from two threads at once (use one per stream).
//
// Images are contiguous row-major HWC: uint8 (ResizeU8) or float32 (ResizeF32), with
// `channels` interleaved values per pixel ((H, W) images are channels == 1).
// uint8: exact integer sums, output (acc + side*side/2) / (side*side) (round half up).
// float32: float64 sums in the same tap order, output float(acc / (side*side)).
class CenterCropResizer {
 public:
  CenterCropResizer() = default;
  // crop_side as in ComputeCropBox (0: min(height, width)).
  static Result<CenterCropResizer> Create(int height, int width, int channels, int size,
                                          int crop_side = 0);

  int height() const { return height_; }
  int width() const { return width_; }
  int channels() const { return channels_; }
  int size() const { return size_; }
  const CropBox& crop_box() const { return crop_; }
  const AreaTaps& taps() const { return taps_; }

  size_t input_elements() const { return static_cast<size_t>(height_) * width_ * channels_; }
  size_t output_elements() const { return static_cast<size_t>(size_) * size_ * channels_; }

  // `src` holds input_elements() values, `dst` room for output_elements(); the counts are
  // checked so a wrong buffer is a Status, not a crash.
  Status ResizeU8(const uint8_t* src, size_t src_elements, uint8_t* dst, size_t dst_elements);
  Status ResizeF32(const float* src, size_t src_elements, float* dst, size_t dst_elements);

 private:
  Status CheckBuffers(const void* src, size_t src_elements, const void* dst,
                      size_t dst_elements) const;

  int height_ = 0;
  int width_ = 0;
  int channels_ = 0;
  int size_ = 0;
  CropBox crop_;
  AreaTaps taps_;
  template <typename Acc>
  void ResizeU8With(const uint8_t* src, uint8_t* dst, Acc* row) const;

  std::vector<int32_t> row_i32_;  // (side, channels): one output row after the y pass
  std::vector<int64_t> row_i64_;  // the same for crops too large for 32-bit sums
  std::vector<double> row_f64_;   // (side, channels)
};

// Gaze mapping of `count` points, row-major (count, 2) as (x, y), between pixel coordinates of
// the original image and the normalised square crop `crop` (from ComputeCropBox; x right,
// y down):
//   xy_norm = (xy_px + pixel_center_offset - (left, top)) / side
// and its inverse. The image spans [0, W) x [0, H); use pixel_center_offset = 0.5 for
// projections with pixel centres at integers. NaN stays NaN; points outside the crop map
// outside [0, 1]. Input and output may be the same buffer.
Status GazePxToCropNorm(const double* xy_px, size_t count, const CropBox& crop,
                        double pixel_center_offset, double* xy_norm);
Status CropNormToGazePx(const double* xy_norm, size_t count, const CropBox& crop,
                        double pixel_center_offset, double* xy_px);

}  // namespace egom2p
