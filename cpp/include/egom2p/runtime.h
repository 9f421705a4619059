// The EgoM2P streaming runtime: timestamped RGB frames in; gaze and camera poses per 2-s window
// and as continuous tracks out. The one header a C++ user needs.
//
// Basic usage:
//   #include "egom2p/runtime.h"
//
//   auto runtime = egom2p::Runtime::Load("path/to/bundle");       // validates, opens engines
//   if (!runtime.ok()) { std::cerr << runtime.status().ToString() << "\n"; return 1; }
//   egom2p::StreamOptions options;                                 // gaze + cam, hop 4, seed 0
//   options.mode = "joint";                                        // the fast mode
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
//   egom2p::Trajectory trajectory;                                 // one pose per 1/30 s
//   stream.value()->GetTrajectory(INT64_MIN, &trajectory);
//
// Live sources use Runtime::CreateLiveStream: Push returns at once (the windows run on a worker
// thread behind a bounded queue that drops the oldest window when the engines fall behind).
//
// Model and state are separate (as in whisper.cpp): a Runtime is immutable after Load and holds
// the bundle and its engines; each Stream holds one input's frames, resampler, RNG, tracks and
// timers. Nothing throws: every call returns a Status.
//
// Thread safety: a Runtime is shared by any number of streams on any number of threads (its
// engines are only run, and ONNX Runtime sessions run concurrently; the native TensorRT engines
// serialise their calls with a mutex). One Stream must not be pushed to from two threads at once;
// its const getters (timings, GetTrajectory, GetGazeTrack) may be called from any thread. A
// LiveStream may be read from any thread while one thread pushes. Results do not depend on
// threading: several streams run in parallel give what each gives alone.
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
//   joint, single_pass (egom2p/decoding.h, egom2p/window_decoder.h); window w samples with
//   PortableRng(seed + w), steps numbered from 0 in each window.
// - Outputs: per target the tokens and each token's probability; gaze (T, 2) in [0, 1] crop
//   coordinates; camera-to-window poses (T, 4, 4) relative to the window's first frame; and the
//   continuous tracks (egom2p/stream_tracks.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "egom2p/bundle.h"
#include "egom2p/status.h"
#include "egom2p/stream_tracks.h"

namespace egom2p {

struct RuntimeOptions {
  // "onnxruntime" (the providers below) or "tensorrt" (the bundle's TensorRT engines, built by
  // egom2p build-engines; only in builds with TensorRT).
  std::string backend = "onnxruntime";
  int threads = 0;           // intra-op threads; 0 = the bundle's session options
  bool check_hashes = true;  // verify every file's sha256 on Load
  // onnxruntime: execution providers in order of preference, among "tensorrt", "cuda", "cpu".
  std::vector<std::string> providers = {"cpu"};
  // A provider (or, for backend "tensorrt", a stage's engine) that is not available here is an
  // error, unless this is true: then the next provider (or ONNX Runtime on the CPU) runs.
  bool allow_fallback = false;
  std::string engine_cache_dir;  // TensorRT engine cache; "" = $EGOM2P_ENGINE_CACHE/ort-tensorrt
  int device_id = 0;             // GPU
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
  // Encode the video once per window and reuse it in every step (joint / single_pass only: an
  // approximation, see egom2p/window_decoder.h).
  bool reuse_condition = false;
  double history_s = 0.0;  // seconds of final track samples kept; 0 = all
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
  int image_height = 0;            // input frame size (of the last filled sample)
  int image_width = 0;
  int64_t latency_us = 0;  // push of the completing frame -> prediction ready (queue included)
  std::vector<TargetPrediction> targets;
  int trajectory_samples = 0;          // T
  std::vector<float> gaze_xy_norm;     // (T, 2), empty when gaze was not decoded
  std::vector<float> T_window_camera;  // (T, 4, 4), empty when the camera was not decoded
};

// Durations of one stage, in microseconds: totals, and the last kRecent for percentiles.
struct StageTimer {
  static constexpr size_t kRecent = 1024;
  int64_t count = 0;
  int64_t total_us = 0;
  int64_t max_us = 0;
  int64_t last_us = 0;
  std::vector<int64_t> recent_us;  // ring buffer of the last kRecent durations
  size_t ring_next = 0;            // where the next duration goes once the ring is full
  void Add(int64_t us);
  void Merge(const StageTimer& other);  // other's durations (totals and ring) added to this
  // Nearest rank over the recent durations: sorted[ceil(q / 100 * n) - 1]; 0 when empty.
  int64_t Percentile(double q) const;
};

// Per-stage timers of a stream (the Python twin: egom2p_edge.streaming.timings).
struct StreamTimings {
  StageTimer preprocess;          // crop + resize of the frames the resampler picks
  StageTimer tokenize;            // video encoder, once per window
  StageTimer encode;              // backbone encoder, once per decoding step (or row)
  StageTimer decode;              // backbone decoder, once per decoding step (or row)
  StageTimer sample;              // guidance, filters, sampling, once per decoding step
  StageTimer detokenize;          // gaze / camera decoders, once per window
  StageTimer window;              // one window end to end
  std::vector<StageTimer> steps;  // decoding step s of each window (encode + decode + sample)
  StageTimer latency;  // push of the completing frame -> prediction ready (queue included)
  void Merge(const StreamTimings& other);
};

struct StreamImpl;
struct RuntimeState;
struct LiveImpl;

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

  StreamTimings timings() const;  // a snapshot
  // The continuous tracks so far (samples at or after since_ns; INT64_MIN: all kept).
  void GetTrajectory(int64_t since_ns, Trajectory* out) const;
  void GetGazeTrack(int64_t since_ns, GazeTrack* out) const;
  const std::vector<std::string>& targets() const;  // model keys, decoding order
  const std::string& mode() const;

 private:
  friend class Runtime;
  friend class LiveStream;
  friend struct LiveImpl;
  explicit Stream(std::unique_ptr<StreamImpl> impl);
  std::unique_ptr<StreamImpl> impl_;
};

struct LiveOptions {
  int queue_windows = 2;  // completed windows that may wait for the engines (>= 1)
};

struct LiveStats {
  int queue_windows = 0;
  int64_t windows_submitted = 0;
  int64_t windows_dropped = 0;  // dropped unrun because the queue was full (oldest first)
  int64_t windows_done = 0;
  int64_t windows_waiting = 0;  // queued or running now
  StageTimer latency;           // per window: push of the completing frame -> ready
};

// Live mode: Push does the cheap part (checks, resampling, crop + resize) in the caller's thread
// and queues each completed window for one worker thread; when the queue is full the oldest
// waiting window is dropped, so latency stays bounded whatever the input rate. Push never waits
// for the engines: `ready` receives the predictions finished since the previous call.
class LiveStream {
 public:
  ~LiveStream();  // stops the worker; queued windows are discarded (Flush runs them)
  LiveStream(const LiveStream&) = delete;
  LiveStream& operator=(const LiveStream&) = delete;

  Status Push(const uint8_t* rgb, int height, int width, int64_t timestamp_ns,
              std::vector<WindowPrediction>* ready);
  // End of stream: waits until every queued window ran; `out` receives the rest.
  Status Flush(std::vector<WindowPrediction>* out);
  LiveStats stats() const;
  const Stream& stream() const;  // timings, tracks, targets, mode

 private:
  friend class Runtime;
  explicit LiveStream(std::unique_ptr<LiveImpl> impl);
  std::unique_ptr<LiveImpl> impl_;
};

class Runtime {
 public:
  // Loads and validates a bundle (manifest, file hashes, graphs) and opens its engines.
  static Result<std::shared_ptr<const Runtime>> Load(const std::string& bundle_dir,
                                                     const RuntimeOptions& options = {});
  ~Runtime();
  // A new independent stream. InvalidArgument for unknown targets or bad overrides.
  Result<std::unique_ptr<Stream>> CreateStream(const StreamOptions& options = {}) const;
  Result<std::unique_ptr<LiveStream>> CreateLiveStream(const StreamOptions& options = {},
                                                       const LiveOptions& live = {}) const;
  const BundleManifest& manifest() const;
  const RuntimeOptions& options() const;
  // stage -> what runs it, e.g. "onnxruntime:cpu", "onnxruntime:tensorrt,cuda,cpu", "tensorrt".
  std::map<std::string, std::string> stage_backends() const;

 private:
  Runtime() = default;
  std::shared_ptr<const RuntimeState> state_;
};

}  // namespace egom2p
