// Centre crop + integer-exact area resize, and the gaze crop mapping (twin of preprocess.py).
#include "egom2p/preprocess.h"

#include <algorithm>
#include <string>

namespace egom2p {
namespace {

Status Invalid(const std::string& message) { return Status(StatusCode::kInvalidArgument, message); }

// One output row of the y pass: row[x * channels + ch] = sum_k w_k * crop[idx_k][x][ch], summed
// in ascending k from zero exactly as the Python reference does (the float sums must match bit
// for bit, including the zero-weight padding taps, which propagate NaN/inf like numpy).
template <typename In, typename Acc>
void RowPass(const In* src, int width, int channels, const CropBox& crop, const int32_t* index,
             const int64_t* weight, int taps, Acc* row) {
  const size_t row_len = static_cast<size_t>(crop.side) * channels;
  std::fill(row, row + row_len, Acc(0));
  for (int k = 0; k < taps; ++k) {
    const Acc w = static_cast<Acc>(weight[k]);
    const size_t y = static_cast<size_t>(crop.top) + index[k];
    const In* s = src + (y * width + crop.left) * channels;  // crop row y, column `left`
    for (size_t e = 0; e < row_len; ++e) row[e] += w * static_cast<Acc>(s[e]);
  }
}

// The x pass of one output row: out[ox][ch] = sum_k w_k * row[idx_k][ch], ascending k from zero.
template <typename Acc, typename Emit>
void ColumnPass(const Acc* row, int size, int channels, const AreaTaps& taps, Emit emit) {
  const int K = taps.taps_per_output;
  for (int ox = 0; ox < size; ++ox) {
    const int32_t* index = taps.index.data() + static_cast<size_t>(ox) * K;
    const int64_t* weight = taps.weight.data() + static_cast<size_t>(ox) * K;
    for (int ch = 0; ch < channels; ++ch) {
      Acc acc = Acc(0);
      for (int k = 0; k < K; ++k) {
        acc += static_cast<Acc>(weight[k]) * row[static_cast<size_t>(index[k]) * channels + ch];
      }
      emit(static_cast<size_t>(ox) * channels + ch, acc);
    }
  }
}

}  // namespace

Result<CropBox> ComputeCropBox(int height, int width, int crop_side) {
  if (height < 1 || width < 1) {
    return Invalid("crop box: image size must be >= 1, got " + std::to_string(height) + "x" +
                   std::to_string(width));
  }
  const int largest = std::min(height, width);
  if (crop_side != 0 && (crop_side < 1 || crop_side > largest)) {
    return Invalid("crop box: crop_side must be in [1, " + std::to_string(largest) + "] for a " +
                   std::to_string(height) + "x" + std::to_string(width) +
                   " image (or 0 for the largest), got " + std::to_string(crop_side));
  }
  CropBox box;
  box.side = crop_side == 0 ? largest : crop_side;
  box.top = (height - box.side) / 2;
  box.left = (width - box.side) / 2;
  return box;
}

Result<AreaTaps> ComputeAreaTaps(int src, int dst) {
  if (src < 1 || dst < 1) {
    return Invalid("area taps: sizes must be >= 1, got src=" + std::to_string(src) +
                   " dst=" + std::to_string(dst));
  }
  AreaTaps taps;
  taps.src = src;
  taps.dst = dst;
  // Output i covers [i*src, (i+1)*src); it touches source pixels j0..j1 (j covers
  // [j*dst, (j+1)*dst)). K is the largest j1 - j0 + 1 over all outputs.
  int64_t max_span = 0;
  for (int64_t i = 0; i < dst; ++i) {
    const int64_t lo = i * src;
    const int64_t hi = lo + src;
    max_span = std::max(max_span, (hi - 1) / dst - lo / dst);
  }
  const int K = static_cast<int>(max_span) + 1;
  taps.taps_per_output = K;
  taps.index.resize(static_cast<size_t>(dst) * K);
  taps.weight.resize(static_cast<size_t>(dst) * K);
  for (int64_t i = 0; i < dst; ++i) {
    const int64_t lo = i * src;
    const int64_t hi = lo + src;
    const int64_t j0 = lo / dst;
    for (int k = 0; k < K; ++k) {
      const int64_t j = j0 + k;
      const int64_t overlap = std::min(hi, (j + 1) * dst) - std::max(lo, j * dst);
      taps.weight[i * K + k] = std::max<int64_t>(overlap, 0);
      taps.index[i * K + k] = static_cast<int32_t>(std::min<int64_t>(j, src - 1));
    }
  }
  return taps;
}

Result<CenterCropResizer> CenterCropResizer::Create(int height, int width, int channels, int size,
                                                    int crop_side) {
  auto crop = ComputeCropBox(height, width, crop_side);
  if (!crop.ok()) return crop.status();
  if (channels < 1)
    return Invalid("resizer: channels must be >= 1, got " + std::to_string(channels));
  if (size < 1) return Invalid("resizer: output size must be >= 1, got " + std::to_string(size));
  auto taps = ComputeAreaTaps(crop.value().side, size);
  if (!taps.ok()) return taps.status();
  CenterCropResizer r;
  r.height_ = height;
  r.width_ = width;
  r.channels_ = channels;
  r.size_ = size;
  r.crop_ = crop.value();
  r.taps_ = std::move(taps.value());
  return r;
}

Status CenterCropResizer::CheckBuffers(const void* src, size_t src_elements, const void* dst,
                                       size_t dst_elements) const {
  if (size_ == 0) return Status(StatusCode::kFailedPrecondition, "resizer: not created");
  if (src == nullptr || dst == nullptr) return Invalid("resizer: null image buffer");
  if (src_elements != input_elements()) {
    return Invalid("resizer: input has " + std::to_string(src_elements) + " values, expected " +
                   std::to_string(input_elements()) + " (" + std::to_string(height_) + "x" +
                   std::to_string(width_) + "x" + std::to_string(channels_) +
                   "); create a resizer for this image size");
  }
  if (dst_elements != output_elements()) {
    return Invalid("resizer: output has room for " + std::to_string(dst_elements) +
                   " values, expected " + std::to_string(output_elements()));
  }
  return Status::Ok();
}

Status CenterCropResizer::ResizeU8(const uint8_t* src, size_t src_elements, uint8_t* dst,
                                   size_t dst_elements) {
  Status s = CheckBuffers(src, src_elements, dst, dst_elements);
  if (!s.ok()) return s;
  // The sums are exact integers either way; 32-bit ones vectorise better and hold every sum
  // (at most 255 * side^2, plus side^2 / 2 for rounding) while side <= kMaxSideInt32.
  constexpr int kMaxSideInt32 = 2896;
  if (crop_.side <= kMaxSideInt32) {
    row_i32_.resize(static_cast<size_t>(crop_.side) * channels_);  // allocates on first call only
    ResizeU8With<int32_t>(src, dst, row_i32_.data());
  } else {
    row_i64_.resize(static_cast<size_t>(crop_.side) * channels_);
    ResizeU8With<int64_t>(src, dst, row_i64_.data());
  }
  return Status::Ok();
}

template <typename Acc>
void CenterCropResizer::ResizeU8With(const uint8_t* src, uint8_t* dst, Acc* row) const {
  const Acc area = static_cast<Acc>(crop_.side) * crop_.side;
  const Acc half = area / 2;
  const int K = taps_.taps_per_output;
  for (int oy = 0; oy < size_; ++oy) {
    RowPass<uint8_t, Acc>(src, width_, channels_, crop_,
                          taps_.index.data() + static_cast<size_t>(oy) * K,
                          taps_.weight.data() + static_cast<size_t>(oy) * K, K, row);
    uint8_t* out = dst + static_cast<size_t>(oy) * size_ * channels_;
    ColumnPass<Acc>(row, size_, channels_, taps_, [&](size_t e, Acc acc) {
      out[e] = static_cast<uint8_t>((acc + half) / area);  // acc >= 0: round half up
    });
  }
}

Status CenterCropResizer::ResizeF32(const float* src, size_t src_elements, float* dst,
                                    size_t dst_elements) {
  Status s = CheckBuffers(src, src_elements, dst, dst_elements);
  if (!s.ok()) return s;
  row_f64_.resize(static_cast<size_t>(crop_.side) * channels_);  // allocates on first call only
  const double area = static_cast<double>(static_cast<int64_t>(crop_.side) * crop_.side);
  const int K = taps_.taps_per_output;
  for (int oy = 0; oy < size_; ++oy) {
    RowPass<float, double>(src, width_, channels_, crop_,
                           taps_.index.data() + static_cast<size_t>(oy) * K,
                           taps_.weight.data() + static_cast<size_t>(oy) * K, K, row_f64_.data());
    float* out = dst + static_cast<size_t>(oy) * size_ * channels_;
    ColumnPass<double>(row_f64_.data(), size_, channels_, taps_,
                       [&](size_t e, double acc) { out[e] = static_cast<float>(acc / area); });
  }
  return Status::Ok();
}

Status GazePxToCropNorm(const double* xy_px, size_t count, const CropBox& crop,
                        double pixel_center_offset, double* xy_norm) {
  if (crop.side < 1) return Invalid("gaze: empty crop box (use ComputeCropBox)");
  if (count > 0 && (xy_px == nullptr || xy_norm == nullptr)) return Invalid("gaze: null buffer");
  const double left = crop.left;
  const double top = crop.top;
  const double side = crop.side;
  for (size_t i = 0; i < count; ++i) {
    // Same operation order as numpy: (xy + offset - (left, top)) / side.
    xy_norm[2 * i] = (xy_px[2 * i] + pixel_center_offset - left) / side;
    xy_norm[2 * i + 1] = (xy_px[2 * i + 1] + pixel_center_offset - top) / side;
  }
  return Status::Ok();
}

Status CropNormToGazePx(const double* xy_norm, size_t count, const CropBox& crop,
                        double pixel_center_offset, double* xy_px) {
  if (crop.side < 1) return Invalid("gaze: empty crop box (use ComputeCropBox)");
  if (count > 0 && (xy_px == nullptr || xy_norm == nullptr)) return Invalid("gaze: null buffer");
  const double left = crop.left;
  const double top = crop.top;
  const double side = crop.side;
  for (size_t i = 0; i < count; ++i) {
    // Same operation order as numpy: xy * side + (left, top) - offset.
    xy_px[2 * i] = xy_norm[2 * i] * side + left - pixel_center_offset;
    xy_px[2 * i + 1] = xy_norm[2 * i + 1] * side + top - pixel_center_offset;
  }
  return Status::Ok();
}

}  // namespace egom2p
