// The EgoM2P streaming runtime: timestamped RGB frames in, gaze and camera poses per 2-s window
// out. The one header a C++ user needs.
//
// Basic usage:
//   #include "egom2p/runtime.h"
//
//   auto runtime = egom2p::Runtime::Load("path/to/bundle");       // validates, opens engines
//   if (!runtime.ok()) { std::cerr << runtime.status().ToString() << "\n"; return 1; }
//   egom2p::StreamOptions options;                                 // gaze + cam, hop 4, seed 0
//   auto stream = runtime.value()->CreateStream(options);
//   if (!stream.ok()) { std::cerr << stream.status().ToString() << "\n"; return 1; }
//   std::vector<egom2p::WindowPrediction> predictions;
//   for (const Frame& f : frames) {                                // RGB (H, W, 3) uint8, HWC
//     egom2p::Status s = stream.value()->Push(f.rgb, f.height, f.width, f.timestamp_ns,
//                                             &predictions);
//     if (!s.ok()) { std::cerr << s.ToString() << "\n"; break; }
//     for (const auto& p : predictions) {
//       // p.gaze_xy_norm: (60, 2); p.T_window_camera: (60, 4, 4), row-major float32
//     }
//   }
//   stream.value()->Flush(&predictions);                           // windows the end completes
//
// Model and state are separate (as in whisper.cpp): a Runtime is immutable after Load and holds
// the bundle and its engines; each Stream holds one input's frames, resampler, RNG and timers.
// One runtime serves many streams; different streams may run on different threads at once, one
// stream must not be used from two threads at once. Nothing throws: every call returns a Status.
//
// Semantics (identical to the Python ReferencePipeline, python/egom2p_edge/pipeline/):
// - Frames: any H x W, timestamps strictly increasing (a frame out of order is rejected and the
//   stream stays usable). They are resampled to the bundle's video rate (8 fps: nearest frame,
//   ties to the earlier; a sample with no frame within half a period is missing), centre-cropped
//   and area-resized to S x S (egom2p/preprocess.h).
// - Windows: F samples (16 = 2 s), advancing by hop_frames; a missing sample repeats the nearest
//   earlier filled sample of its window (the first filled one when none is earlier); a window
//   with no filled sample is skipped. Each window is tokenised alone, as the official code
//   tokenises a clip (the video encoder pads 16 frames to 17).
// - Decoding: the bundle's per-target defaults with the stream's overrides; modes official,
//   joint, single_pass (egom2p/decoding.h); window w samples with PortableRng(seed + w), steps
//   numbered from 0 in each window.
// - Outputs: per target the tokens and each token's probability; gaze (T, 2) in [0, 1] crop
//   coordinates; camera-to-window poses (T, 4, 4) relative to the window's first frame.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "egom2p/bundle.h"
#include "egom2p/status.h"

namespace egom2p {

struct RuntimeOptions {
  std::string backend = "onnxruntime";  // the CPU backend; GPU backends come later
  int threads = 0;                      // intra-op threads; 0 = the bundle's session options
  bool check_hashes = true;             // verify every file's sha256 on Load
};

// Per-stream settings; unset values take the bundle's per-target defaults.
struct StreamOptions {
  std::vector<std::string> targets = {"gaze", "cam"};  // short or model names, decoding order
  int hop_frames = 4;                                  // window advance in video samples
  uint64_t seed = 0;
  std::string mode;                   // "" (default), "official", "joint" or "single_pass"
  std::optional<double> temperature;  // 0 = argmax
  std::optional<int> steps;           // for every target
  std::map<std::string, int> steps_per_target;  // target -> steps (overrides `steps`)
  std::optional<double> guidance_scale;         // 1 = no guidance
  std::optional<double> top_p;                  // 0 = off
};

struct TargetPrediction {
  std::string name;                // model key, e.g. "tok_gaze"
  std::vector<int64_t> tokens;     // (K,)
  std::vector<float> token_probs;  // (K,) probability of each chosen token
};

struct WindowPrediction {
  int64_t window_index = 0;
  int64_t timestamp_ns = 0;        // grid time of the window's last video sample
  int64_t start_timestamp_ns = 0;  // grid time of its first sample
  int missing_frames = 0;          // samples no input frame filled
  std::vector<TargetPrediction> targets;
  int trajectory_samples = 0;          // T
  std::vector<float> gaze_xy_norm;     // (T, 2), empty when gaze was not decoded
  std::vector<float> T_window_camera;  // (T, 4, 4), empty when the camera was not decoded
};

// Accumulated durations of one stage, in microseconds.
struct StageTimer {
  int64_t count = 0;
  int64_t total_us = 0;
  int64_t max_us = 0;
  int64_t last_us = 0;
  void Add(int64_t us);
};

// Per-stage timers of a stream (the Python twin: egom2p_edge.streaming.timings).
struct StreamTimings {
  StageTimer preprocess;  // crop + resize of the frames the resampler picks
  StageTimer tokenize;    // video encoder, once per window
  StageTimer encode;      // backbone encoder, once per decoding step
  StageTimer decode;      // backbone decoder, once per decoding step
  StageTimer sample;      // guidance, filters, sampling, once per decoding step
  StageTimer detokenize;  // gaze / camera decoders, once per window
  StageTimer window;      // one window end to end
};

struct StreamImpl;
struct RuntimeState;

class Stream {
 public:
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Adds one frame: `rgb` is (height, width, 3) uint8, row-major HWC, height * width * 3 bytes.
  // `out` is cleared, then receives the predictions of the windows this frame completed.
  // InvalidArgument for a bad frame or a timestamp not after the previous one (the frame is
  // then ignored and the stream stays usable).
  Status Push(const uint8_t* rgb, int height, int width, int64_t timestamp_ns,
              std::vector<WindowPrediction>* out);
  // End of stream: `out` receives the windows the last frames complete; later pushes fail.
  Status Flush(std::vector<WindowPrediction>* out);

  const StreamTimings& timings() const;
  const std::vector<std::string>& targets() const;  // model keys, decoding order
  const std::string& mode() const;

 private:
  friend class Runtime;
  explicit Stream(std::unique_ptr<StreamImpl> impl);
  std::unique_ptr<StreamImpl> impl_;
};

class Runtime {
 public:
  // Loads and validates a bundle (manifest, file hashes, graphs) and opens its engines.
  static Result<std::shared_ptr<const Runtime>> Load(const std::string& bundle_dir,
                                                     const RuntimeOptions& options = {});
  ~Runtime();
  // A new independent stream. InvalidArgument for unknown targets or bad overrides.
  Result<std::unique_ptr<Stream>> CreateStream(const StreamOptions& options = {}) const;
  const BundleManifest& manifest() const;
  const RuntimeOptions& options() const;

 private:
  Runtime() = default;
  std::shared_ptr<const RuntimeState> state_;
};

}  // namespace egom2p
