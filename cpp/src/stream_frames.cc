// Frames -> windows of preprocessed frames (twin of python/egom2p_edge/pipeline/windows.py).
#include "egom2p/stream_frames.h"

#include <chrono>
#include <cstring>

namespace egom2p {
namespace {

constexpr int64_t kNsPerS = 1000000000;
// A larger jump between two frames is refused (a clock reset, not a pause): resampling across it
// would walk every grid time in between.
constexpr int64_t kMaxJumpNs = 3600 * kNsPerS;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<WindowAssembler> WindowAssembler::Create(int size, int fps, int window_frames,
                                                int hop_frames) {
  if (size < 1 || fps < 1) {
    return Status(StatusCode::kInvalidArgument, "WindowAssembler: size and fps must be >= 1, got " +
                                                    std::to_string(size) + " and " +
                                                    std::to_string(fps));
  }
  ResampleConfig config;
  config.period_ns = kNsPerS / fps;
  config.window_frames = window_frames;
  config.hop_frames = hop_frames;
  Result<FrameResampler> r = FrameResampler::Create(config);
  if (!r.ok()) return r.status();
  WindowAssembler a;
  a.size_ = size;
  a.resampler_ = std::move(r.value());
  return a;
}

Status WindowAssembler::Store(int64_t grid_index, const uint8_t* rgb, int height, int width) {
  auto key = std::make_pair(height, width);
  auto it = resizers_.find(key);
  if (it == resizers_.end()) {
    Result<CenterCropResizer> r = CenterCropResizer::Create(height, width, 3, size_);
    if (!r.ok()) return r.status();
    it = resizers_.emplace(key, std::move(r.value())).first;
  }
  std::vector<uint8_t>& dst = samples_[grid_index];
  sizes_[grid_index] = key;
  dst.resize(it->second.output_elements());
  return it->second.ResizeU8(rgb, it->second.input_elements(), dst.data(), dst.size());
}

Status WindowAssembler::Push(const uint8_t* rgb, int height, int width, int64_t timestamp_ns,
                             StageTimer* preprocess, std::vector<VideoWindow>* out) {
  out->clear();
  if (rgb == nullptr || height < 1 || width < 1) {
    return Status(StatusCode::kInvalidArgument,
                  "push: rgb must be a non-empty (H, W, 3) uint8 image, got " +
                      std::to_string(height) + " x " + std::to_string(width));
  }
  const int64_t index = resampler_.frames_pushed();
  // Unsigned: the difference of two int64 timestamps may not fit an int64.
  const uint64_t jump = static_cast<uint64_t>(timestamp_ns) - static_cast<uint64_t>(last_ns_);
  if (index > 0 && timestamp_ns > last_ns_ && jump > static_cast<uint64_t>(kMaxJumpNs)) {
    return Status(StatusCode::kInvalidArgument,
                  "push: timestamp_ns " + std::to_string(timestamp_ns) + " is " +
                      std::to_string(jump / kNsPerS) +
                      " s after the previous frame (more than 3600 s): start a new stream");
  }
  ResamplePushResult res;
  if (Status s = resampler_.Push(timestamp_ns, &res); !s.ok()) return s;
  const int64_t start = NowUs();
  for (const ResampledSample& sample : res.samples) {
    Status s;
    if (sample.frame_index < 0) {
      samples_[sample.grid_index].clear();
    } else if (sample.frame_index == index) {
      s = Store(sample.grid_index, rgb, height, width);
    } else {
      s = Store(sample.grid_index, prev_.data(), prev_height_, prev_width_);
    }
    if (!s.ok()) return s;
  }
  if (!res.samples.empty() && preprocess != nullptr) preprocess->Add(NowUs() - start);
  const size_t bytes = static_cast<size_t>(height) * static_cast<size_t>(width) * 3;
  prev_.resize(bytes);
  std::memcpy(prev_.data(), rgb, bytes);
  prev_height_ = height;
  prev_width_ = width;
  last_ns_ = timestamp_ns;
  EmitWindows(res.windows, out);
  return Status::Ok();
}

Status WindowAssembler::Finish(StageTimer* preprocess, std::vector<VideoWindow>* out) {
  out->clear();
  ResamplePushResult res;
  if (Status s = resampler_.Finish(&res); !s.ok()) return s;
  const int64_t start = NowUs();
  for (const ResampledSample& sample : res.samples) {
    if (Status s = Store(sample.grid_index, prev_.data(), prev_height_, prev_width_); !s.ok()) {
      return s;
    }
  }
  if (!res.samples.empty() && preprocess != nullptr) preprocess->Add(NowUs() - start);
  EmitWindows(res.windows, out);
  return Status::Ok();
}

void WindowAssembler::EmitWindows(const std::vector<ResampledWindow>& windows,
                                  std::vector<VideoWindow>* out) {
  const size_t frame_bytes = static_cast<size_t>(size_) * size_ * 3;
  for (const ResampledWindow& w : windows) {
    const int n = static_cast<int>(w.frame_indices.size());
    std::vector<const std::vector<uint8_t>*> imgs(n, nullptr);
    int first_filled = -1;
    for (int k = 0; k < n; ++k) {
      const std::vector<uint8_t>& s = samples_[w.first_grid_index + k];
      if (!s.empty()) {
        imgs[k] = &s;
        if (first_filled < 0) first_filled = k;
      }
    }
    if (first_filled >= 0) {
      VideoWindow vw;
      vw.window = w;
      for (int k = n - 1; k >= 0; --k) {
        if (imgs[k] == nullptr) continue;
        const std::pair<int, int>& hw = sizes_[w.first_grid_index + k];
        vw.image_height = hw.first;
        vw.image_width = hw.second;
        break;
      }
      vw.frames.resize(frame_bytes * n);
      for (int k = 0; k < n; ++k) {
        if (imgs[k] == nullptr) {
          imgs[k] = k > 0 ? imgs[k - 1] : imgs[first_filled];
          ++vw.missing_frames;
        }
        std::memcpy(vw.frames.data() + frame_bytes * k, imgs[k]->data(), frame_bytes);
      }
      out->push_back(std::move(vw));
    }
    const int64_t next_start = (w.window_index + 1) * resampler_.config().hop_frames;
    samples_.erase(samples_.begin(), samples_.lower_bound(next_start));
    sizes_.erase(sizes_.begin(), sizes_.lower_bound(next_start));
  }
}

}  // namespace egom2p
