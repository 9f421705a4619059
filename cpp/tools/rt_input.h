// Frame sources of egom2p-rt (header-only, part of the tool): raw video on a pipe or in a file,
// as YUV4MPEG2 (y4m: 4:4:4 or 4:2:0, BT.601 limited range, what `ffmpeg -f yuv4mpegpipe`
// writes) or bare rgb24 frames of a given size (`ffmpeg -f rawvideo -pix_fmt rgb24`, exact), and
// the ZeroMQ frame bus (egom2p/frame_bus.h). Timestamps: frame i of a file is at i / fps.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "egom2p/frame_bus.h"
#include "egom2p/status.h"

namespace egom2p_rt {

struct Frame {
  std::vector<uint8_t> rgb;  // (height, width, 3)
  int height = 0;
  int width = 0;
  int64_t timestamp_ns = 0;
};

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  // true: *frame holds the next frame; false: the end. A bad stream is an error status.
  virtual egom2p::Result<bool> Next(Frame* frame) = 0;
};

inline uint8_t Clamp(double v) {
  return static_cast<uint8_t>(std::min(255.0, std::max(0.0, v + 0.5)));
}

// Reads y4m or rgb24 from a FILE* (stdin or a file).
class PipeSource final : public FrameSource {
 public:
  // format "y4m" or "rgb24"; rgb24 needs height, width and fps.
  static egom2p::Result<std::unique_ptr<FrameSource>> Open(const std::string& path,
                                                           const std::string& format, int height,
                                                           int width, double fps) {
    auto s = std::unique_ptr<PipeSource>(new PipeSource());
    s->file_ = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
    s->own_ = path != "-";
    if (s->file_ == nullptr) {
      return egom2p::Status(egom2p::StatusCode::kNotFound, "cannot open '" + path + "'");
    }
    s->y4m_ = format == "y4m";
    s->height_ = height;
    s->width_ = width;
    s->fps_ = fps;
    if (s->y4m_) {
      if (egom2p::Status st = s->ReadY4mHeader(); !st.ok()) return st;
    } else if (height < 1 || width < 1 || !(fps > 0)) {
      return egom2p::Status(
          egom2p::StatusCode::kInvalidArgument,
          "rgb24 input needs --size WxH and --fps (e.g. --size 640x480 --fps 30)");
    }
    return std::unique_ptr<FrameSource>(std::move(s));
  }

  ~PipeSource() override {
    if (own_ && file_ != nullptr) std::fclose(file_);
  }

  egom2p::Result<bool> Next(Frame* frame) override {
    frame->height = height_;
    frame->width = width_;
    frame->timestamp_ns = static_cast<int64_t>(static_cast<double>(index_) * 1e9 / fps_ + 0.5);
    const size_t pixels = static_cast<size_t>(height_) * width_;
    frame->rgb.resize(pixels * 3);
    if (!y4m_) {
      const size_t got = std::fread(frame->rgb.data(), 1, frame->rgb.size(), file_);
      if (got == 0) return false;
      if (got != frame->rgb.size()) return Truncated();
      ++index_;
      return true;
    }
    std::string line;
    int c;
    while ((c = std::fgetc(file_)) != EOF && c != '\n') line += static_cast<char>(c);
    if (line.empty() && c == EOF) return false;
    if (line.rfind("FRAME", 0) != 0) {
      return egom2p::Status(egom2p::StatusCode::kInvalidArgument,
                            "y4m: expected a FRAME header, got '" + line.substr(0, 20) + "'");
    }
    const size_t cw = chroma420_ ? (width_ + 1) / 2 : width_;
    const size_t ch = chroma420_ ? (height_ + 1) / 2 : height_;
    yuv_.resize(pixels + 2 * cw * ch);
    if (std::fread(yuv_.data(), 1, yuv_.size(), file_) != yuv_.size()) return Truncated();
    const uint8_t* Y = yuv_.data();
    const uint8_t* U = Y + pixels;
    const uint8_t* V = U + cw * ch;
    for (int y = 0; y < height_; ++y) {
      for (int x = 0; x < width_; ++x) {
        const size_t ci = chroma420_ ? (y / 2) * cw + x / 2 : static_cast<size_t>(y) * cw + x;
        const double yy = 1.164383 * (Y[static_cast<size_t>(y) * width_ + x] - 16.0);
        const double u = U[ci] - 128.0, v = V[ci] - 128.0;
        uint8_t* p = &frame->rgb[(static_cast<size_t>(y) * width_ + x) * 3];
        p[0] = Clamp(yy + 1.596027 * v);
        p[1] = Clamp(yy - 0.391762 * u - 0.812968 * v);
        p[2] = Clamp(yy + 2.017232 * u);
      }
    }
    ++index_;
    return true;
  }

 private:
  PipeSource() = default;

  egom2p::Status Truncated() const {
    return egom2p::Status(egom2p::StatusCode::kInvalidArgument,
                          "input ends inside frame " + std::to_string(index_) +
                              " (wrong --size, or a truncated file)");
  }

  egom2p::Status ReadY4mHeader() {
    std::string line;
    int c;
    while ((c = std::fgetc(file_)) != EOF && c != '\n') line += static_cast<char>(c);
    if (line.rfind("YUV4MPEG2", 0) != 0) {
      return egom2p::Status(egom2p::StatusCode::kInvalidArgument,
                            "the input is not y4m (no YUV4MPEG2 header); for raw rgb24 pass "
                            "--format rgb24 --size WxH --fps N");
    }
    std::string colorspace = "420jpeg";
    size_t pos = 0;
    while ((pos = line.find(' ', pos)) != std::string::npos) {
      ++pos;
      const char tag = line[pos];
      const std::string value = line.substr(pos + 1, line.find(' ', pos) - pos - 1);
      if (tag == 'W') width_ = std::stoi(value);
      if (tag == 'H') height_ = std::stoi(value);
      if (tag == 'C') colorspace = value;
      if (tag == 'F') {
        const size_t colon = value.find(':');
        const double num = std::stod(value.substr(0, colon));
        const double den = colon == std::string::npos ? 1.0 : std::stod(value.substr(colon + 1));
        if (fps_ <= 0 && den > 0) fps_ = num / den;
      }
    }
    if (colorspace.rfind("444", 0) == 0) {
      chroma420_ = false;
    } else if (colorspace.rfind("420", 0) == 0) {
      chroma420_ = true;
    } else {
      return egom2p::Status(
          egom2p::StatusCode::kInvalidArgument,
          "y4m colour space C" + colorspace + " is not supported; use -pix_fmt yuv444p or yuv420p");
    }
    if (width_ < 1 || height_ < 1 || !(fps_ > 0)) {
      return egom2p::Status(egom2p::StatusCode::kInvalidArgument,
                            "y4m header without W, H or F: '" + line + "'");
    }
    return egom2p::Status::Ok();
  }

  FILE* file_ = nullptr;
  bool own_ = false;
  bool y4m_ = true;
  bool chroma420_ = true;
  int height_ = 0;
  int width_ = 0;
  double fps_ = 0.0;
  int64_t index_ = 0;
  std::vector<uint8_t> yuv_;
};

// Frames from the ZeroMQ frame bus until its end-of-stream marker (or timeout_ms of silence).
class BusSource final : public FrameSource {
 public:
  static egom2p::Result<std::unique_ptr<FrameSource>> Open(const std::string& endpoint,
                                                           int timeout_ms) {
    auto sub = egom2p::FrameSubscriber::Create(endpoint);
    if (!sub.ok()) return sub.status();
    auto s = std::unique_ptr<BusSource>(new BusSource());
    s->sub_ = std::move(sub.value());
    s->timeout_ms_ = timeout_ms;
    return std::unique_ptr<FrameSource>(std::move(s));
  }

  egom2p::Result<bool> Next(Frame* frame) override {
    egom2p::BusFrame f;
    egom2p::Result<bool> got = sub_->Receive(timeout_ms_, &f);
    if (!got.ok()) return got.status();
    if (!got.value() || f.end_of_stream) return false;
    frame->rgb = std::move(f.rgb);
    frame->height = f.height;
    frame->width = f.width;
    frame->timestamp_ns = f.timestamp_ns;
    return true;
  }

 private:
  BusSource() = default;
  std::unique_ptr<egom2p::FrameSubscriber> sub_;
  int timeout_ms_ = 10000;
};

}  // namespace egom2p_rt
