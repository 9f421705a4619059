// Runtime: loads and validates a bundle, opens the engines of the stages a stream runs, and
// creates streams.
#include "egom2p/runtime.h"

#include <algorithm>
#include <optional>

#include "egom2p/backends.h"
#include "egom2p/bundle_names.h"
#include "runtime_state.h"

namespace egom2p {
namespace {

namespace bn = bundle_names;

const char* const kRequiredStages[] = {bn::kVideoEncoder, bn::kBackboneEncoder,
                                       bn::kBackboneDecoder};
const char* const kDetokenizers[] = {bn::kGazeDecoder, bn::kCamDecoder};
constexpr const char* kVideoModality = "tok_rgb";

Status CheckStreamable(const BundleManifest& m) {
  std::string missing;
  for (const char* s : kRequiredStages) {
    if (!m.HasStage(s)) missing += std::string(missing.empty() ? "" : ", ") + s;
  }
  if (!missing.empty() || !m.video || !m.trajectory || !m.backbone || !m.decoding) {
    return Status(StatusCode::kFailedPrecondition,
                  "bundle " + m.root +
                      ": streaming needs the stages video_encoder, backbone_encoder and "
                      "backbone_decoder (missing: " +
                      (missing.empty() ? std::string("none") : missing) +
                      ") and the video, trajectory, backbone and decoding sections; export it "
                      "with --model and --video-tokenizer (egom2p export)");
  }
  const ModalityEntry* rgb = m.FindModality(kVideoModality);
  const auto& g = m.video->token_grid;
  if (rgb == nullptr || rgb->num_tokens() != g[0] * g[1] * g[2]) {
    return Status(StatusCode::kFailedPrecondition,
                  "bundle " + m.root + ": the modality table needs " + kVideoModality +
                      " with as many tokens as the video token grid");
  }
  return Status::Ok();
}

}  // namespace

Runtime::~Runtime() = default;

namespace {

// The engine of one stage on the chosen backend.
Result<std::unique_ptr<Engine>> OpenEngine(const BundleManifest& m, const std::string& stage,
                                           const RuntimeOptions& options, const EngineOptions& eo,
                                           const std::vector<std::string>& providers,
                                           const std::optional<TensorRtDevice>& trt) {
  const std::string onnx = m.StagePath(stage);
  if (trt) {
    Result<const EngineRecord*> record = SelectEngineRecord(m, stage, *trt);
    if (record.ok()) {
      return CreateTensorRtEngine(m.root + "/" + record.value()->file, m.stages.at(stage),
                                  options.device_id);
    }
    if (!options.allow_fallback) return record.status();
    // Fallback: this stage runs on ONNX Runtime (CPU).
    return CreateOrtEngine(onnx, eo);
  }
  if (providers.size() == 1 && providers[0] == "cpu") return CreateOrtEngine(onnx, eo);
  ProviderOptions po;
  po.providers = providers;
  po.allow_fallback = options.allow_fallback;
  po.engine_cache_dir = options.engine_cache_dir;
  po.device_id = options.device_id;
  po.precision = m.StagePrecision(stage);
  return CreateOrtProviderEngine(onnx, eo, po);
}

}  // namespace

Result<std::shared_ptr<const Runtime>> Runtime::Load(const std::string& bundle_dir,
                                                     const RuntimeOptions& options) {
  if (options.backend != "onnxruntime" && options.backend != "tensorrt") {
    return Status(StatusCode::kInvalidArgument,
                  "backend '" + options.backend + "' is not one of 'onnxruntime', 'tensorrt'");
  }
  if (options.threads < 0) {
    return Status(StatusCode::kInvalidArgument,
                  "threads must be >= 1 (or 0: the bundle's session options), got " +
                      std::to_string(options.threads));
  }
  if (options.device_id < 0) {
    return Status(StatusCode::kInvalidArgument,
                  "device_id must be >= 0, got " + std::to_string(options.device_id));
  }
  std::vector<std::string> providers;
  std::optional<TensorRtDevice> trt;
  if (options.backend == "onnxruntime") {
    ProviderOptions po;
    po.providers = options.providers;
    po.allow_fallback = options.allow_fallback;
    Result<std::vector<std::string>> used = ResolveProviders(po, OrtAvailableProviders());
    if (!used.ok()) return used.status();
    providers = used.value();
  } else {
    Result<TensorRtDevice> probe = ProbeTensorRt(options.device_id);
    if (!probe.ok()) return probe.status();
    trt = probe.value();
  }
  Result<BundleManifest> manifest = LoadBundle(bundle_dir, options.check_hashes);
  if (!manifest.ok()) return manifest.status();
  if (Status s = CheckStreamable(manifest.value()); !s.ok()) return s;
  auto state = std::make_shared<RuntimeState>();
  state->manifest = std::move(manifest.value());
  state->options = options;
  const SessionOptionsSpec& so = state->manifest.session_options;
  EngineOptions eo;
  eo.intra_op_threads = options.threads > 0 ? options.threads : so.intra_op_threads;
  eo.inter_op_threads = so.inter_op_threads;
  eo.graph_optimization = so.graph_optimization;
  std::vector<std::string> stages(std::begin(kRequiredStages), std::end(kRequiredStages));
  for (const char* s : kDetokenizers) {
    if (state->manifest.HasStage(s)) stages.push_back(s);
  }
  for (const std::string& stage : stages) {
    Result<std::unique_ptr<Engine>> engine =
        OpenEngine(state->manifest, stage, options, eo, providers, trt);
    if (!engine.ok()) return engine.status();
    if (Status s = CheckEngineMatchesStage(*engine.value(), state->manifest.stages.at(stage));
        !s.ok()) {
      return s;
    }
    state->stage_backends[stage] = engine.value()->backend();
    state->engines[stage] = std::move(engine.value());
  }
  auto runtime = std::shared_ptr<Runtime>(new Runtime());
  runtime->state_ = std::move(state);
  return std::shared_ptr<const Runtime>(std::move(runtime));
}

std::map<std::string, std::string> Runtime::stage_backends() const {
  return state_->stage_backends;
}

const BundleManifest& Runtime::manifest() const { return state_->manifest; }
const RuntimeOptions& Runtime::options() const { return state_->options; }

}  // namespace egom2p
