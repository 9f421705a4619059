// Stream: one input's frames, resampler, RNG, tracks and timers; turns completed windows into
// predictions (tokenise, decode, detokenise). The Python twin is
// python/egom2p_edge/pipeline/reference.py (ReferenceStream).
#include <chrono>
#include <cmath>
#include <limits>

#include "egom2p/bundle_names.h"
#include "egom2p/rng.h"
#include "egom2p/runtime.h"
#include "egom2p/stream_config.h"
#include "egom2p/window_decoder.h"
#include "stream_impl.h"

namespace egom2p {
namespace {

namespace bn = bundle_names;
constexpr const char* kVideoModality = "tok_rgb";

}  // namespace

int64_t SteadyNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Status StreamImpl::Detokenize(const TokenState& st, WindowPrediction* out) {
  const std::string stage = runtime->manifest.FindModality(st.name)->decoder_stage;
  Engine* engine = runtime->engine(stage);
  if (engine == nullptr) return Status::Ok();  // no tokenizer decoder: tokens only
  const bool gaze = stage == bn::kGazeDecoder;
  Tensor ids = Tensor::Zeros(gaze ? bn::kGazeIds : bn::kCamIds, DType::kInt64,
                             {1, static_cast<int64_t>(st.ids.size())});
  std::copy(st.ids.begin(), st.ids.end(), ids.Data<int64_t>());
  std::vector<Tensor> outputs;
  if (Status s = engine->Run({ids}, &outputs); !s.ok()) return s;
  const std::string want = gaze ? bn::kGazeXyNorm : bn::kTWindowCamera;
  for (const Tensor& t : outputs) {
    if (t.name != want) continue;
    const float* data = t.Data<float>();
    std::vector<float>& dst = gaze ? out->gaze_xy_norm : out->T_window_camera;
    dst.assign(data, data + t.NumElements());  // (1, T, 2) or (1, T, 4, 4) -> batch dropped
    out->trajectory_samples = static_cast<int>(t.shape[1]);
  }
  return Status::Ok();
}

Status StreamImpl::Assemble(const uint8_t* rgb, int height, int width, int64_t timestamp_ns,
                            std::vector<VideoWindow>* windows) {
  StageTimer preprocess;
  Status s = frames.Push(rgb, height, width, timestamp_ns, &preprocess, windows);
  std::lock_guard<std::mutex> lock(mu);
  timings.preprocess.Merge(preprocess);
  return s;
}

Status StreamImpl::Finish(std::vector<VideoWindow>* windows) {
  StageTimer preprocess;
  Status s = frames.Finish(&preprocess, windows);
  std::lock_guard<std::mutex> lock(mu);
  timings.preprocess.Merge(preprocess);
  return s;
}

Status StreamImpl::Predict(const VideoWindow& vw, int64_t arrival_us, WindowPrediction* out) {
  const BundleManifest& m = runtime->manifest;
  StreamTimings local;  // merged into `timings` under mu at the end
  const int64_t t_window = SteadyNowUs();
  // Tokenise: (1, F, S, S, 3) uint8 -> (1, t, h, w) ids.
  int64_t t0 = SteadyNowUs();
  Tensor frames_in;
  frames_in.name = bn::kFramesUint8;
  frames_in.dtype = DType::kUInt8;
  frames_in.shape = {1, m.video->frames, m.video->size, m.video->size, 3};
  frames_in.data = vw.frames;
  std::vector<Tensor> video;
  if (Status s = runtime->engine(bn::kVideoEncoder)->Run({frames_in}, &video); !s.ok()) return s;
  local.tokenize.Add(SteadyNowUs() - t0);

  const ModalityEntry* rgb = m.FindModality(kVideoModality);
  const int64_t n_rgb = rgb->num_tokens();
  if (video[0].NumElements() != n_rgb) {
    return Status(StatusCode::kInternal,
                  "video_encoder returned " + std::to_string(video[0].NumElements()) +
                      " ids, the modality table says " + std::to_string(n_rgb));
  }
  std::vector<TokenState> states;
  const int64_t* ids = video[0].Data<int64_t>();
  states.push_back(TokenState{kVideoModality, rgb->index, std::vector<int64_t>(ids, ids + n_rgb),
                              std::vector<uint8_t>(n_rgb, 1),
                              std::vector<float>(n_rgb, std::numeric_limits<float>::quiet_NaN())});
  for (const TargetDecoding& t : decoding.targets) {
    states.push_back(
        TokenState{t.name, t.modality_index, std::vector<int64_t>(t.num_tokens, 0),
                   std::vector<uint8_t>(t.num_tokens, 0),
                   std::vector<float>(t.num_tokens, std::numeric_limits<float>::quiet_NaN())});
  }
  PortableRng rng(options.seed + static_cast<uint64_t>(vw.window.window_index));
  WindowDecoder decoder(runtime->engine(bn::kBackboneEncoder),
                        runtime->engine(bn::kBackboneDecoder));
  if (Status s = decoder.Decode(decoding, plan, &rng, &states, &local); !s.ok()) return s;

  t0 = SteadyNowUs();
  out->window_index = vw.window.window_index;
  out->start_timestamp_ns = vw.window.grid_timestamps_ns.front();
  out->timestamp_ns = vw.window.grid_timestamps_ns.back();
  out->missing_frames = vw.missing_frames;
  out->image_height = vw.image_height;
  out->image_width = vw.image_width;
  for (size_t i = 1; i < states.size(); ++i) {
    out->targets.push_back(TargetPrediction{states[i].name, states[i].ids, states[i].probs});
    if (Status s = Detokenize(states[i], out); !s.ok()) return s;
  }
  const int64_t done = SteadyNowUs();
  local.detokenize.Add(done - t0);
  local.window.Add(done - t_window);
  out->latency_us = done - arrival_us;
  local.latency.Add(out->latency_us);
  std::lock_guard<std::mutex> lock(mu);
  timings.Merge(local);
  tracks->Add(*out);
  return Status::Ok();
}

Stream::Stream(std::unique_ptr<StreamImpl> impl) : impl_(std::move(impl)) {}
Stream::~Stream() = default;

Status Stream::Push(const uint8_t* rgb, int height, int width, int64_t timestamp_ns,
                    std::vector<WindowPrediction>* out) {
  if (out == nullptr) return Status(StatusCode::kInvalidArgument, "push: out is null");
  out->clear();
  if (impl_->finished) {
    return Status(StatusCode::kFailedPrecondition,
                  "push: the stream was flushed; create a new stream for new frames");
  }
  const int64_t arrival = SteadyNowUs();
  std::vector<VideoWindow> windows;
  if (Status s = impl_->Assemble(rgb, height, width, timestamp_ns, &windows); !s.ok()) return s;
  for (const VideoWindow& vw : windows) {
    WindowPrediction p;
    if (Status s = impl_->Predict(vw, arrival, &p); !s.ok()) return s;
    out->push_back(std::move(p));
  }
  return Status::Ok();
}

Status Stream::Flush(std::vector<WindowPrediction>* out) {
  if (out == nullptr) return Status(StatusCode::kInvalidArgument, "flush: out is null");
  out->clear();
  if (impl_->finished) return Status::Ok();
  impl_->finished = true;
  const int64_t arrival = SteadyNowUs();
  std::vector<VideoWindow> windows;
  if (Status s = impl_->Finish(&windows); !s.ok()) return s;
  for (const VideoWindow& vw : windows) {
    WindowPrediction p;
    if (Status s = impl_->Predict(vw, arrival, &p); !s.ok()) return s;
    out->push_back(std::move(p));
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->tracks->Finish();
  return Status::Ok();
}

StreamTimings Stream::timings() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->timings;
}

void Stream::GetTrajectory(int64_t since_ns, Trajectory* out) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->tracks->GetTrajectory(since_ns, out);
}

void Stream::GetGazeTrack(int64_t since_ns, GazeTrack* out) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->tracks->GetGazeTrack(since_ns, out);
}

const std::vector<std::string>& Stream::targets() const { return impl_->target_names; }
const std::string& Stream::mode() const { return impl_->decoding.mode; }

namespace {

Result<std::unique_ptr<StreamImpl>> MakeStreamImpl(std::shared_ptr<const RuntimeState> state,
                                                   const StreamOptions& options) {
  const BundleManifest& m = state->manifest;
  Result<ResolvedDecoding> decoding = ResolveDecoding(m, options);
  if (!decoding.ok()) return decoding.status();
  Result<std::vector<PlanStep>> plan = BuildDecodingPlan(decoding.value(), {kVideoModality});
  if (!plan.ok()) return plan.status();
  Result<WindowAssembler> frames =
      WindowAssembler::Create(m.video->size, m.video->fps, m.video->frames, options.hop_frames);
  if (!frames.ok()) return frames.status();
  TrackConfig tc;
  tc.rate_hz = m.trajectory->rate_hz;
  tc.fps = m.video->fps;
  tc.hop_frames = options.hop_frames;
  tc.samples = m.trajectory->samples;
  tc.tokens = m.trajectory->tokens;
  tc.history_s = options.history_s;
  if (Status s = tc.Validate(); !s.ok()) return s;
  auto impl = std::make_unique<StreamImpl>();
  impl->runtime = std::move(state);
  impl->options = options;
  impl->decoding = std::move(decoding.value());
  for (const auto& t : impl->decoding.targets) impl->target_names.push_back(t.name);
  impl->plan = std::move(plan.value());
  impl->frames = std::move(frames.value());
  impl->timings.steps.resize(impl->plan.size());
  impl->tracks = std::make_unique<TrackBuilder>(tc);
  return impl;
}

}  // namespace

Result<std::unique_ptr<Stream>> Runtime::CreateStream(const StreamOptions& options) const {
  Result<std::unique_ptr<StreamImpl>> impl = MakeStreamImpl(state_, options);
  if (!impl.ok()) return impl.status();
  return std::unique_ptr<Stream>(new Stream(std::move(impl.value())));
}

}  // namespace egom2p
