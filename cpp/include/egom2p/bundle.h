// Reading and validating a bundle folder (bundle.json + one ONNX file per stage + goldens):
// the C++ side of the contract python/egom2p_edge/bundle/ writes. Checks, in order: the folder
// and bundle.json exist; the magic string and the format version; every manifest field (type,
// range, choices, cross-field rules); every listed file exists with its size and sha256; and,
// once engines are open, each graph has exactly the inputs and outputs the manifest describes.
// Every error is a Status naming the file and the field.
//
// Basic usage:
//   auto bundle = egom2p::LoadBundle("path/to/bundle");
//   if (!bundle.ok()) { std::cerr << bundle.status().ToString(); return 1; }
//   const egom2p::ModalityEntry* gaze = bundle.value().FindModality("gaze");
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "egom2p/engine.h"
#include "egom2p/status.h"
#include "egom2p/tensor.h"

namespace egom2p {

// One graph input or output: dtype and shape; a dynamic axis is -1 in `shape` with its name
// (bundle_names::kDim*) in `dim_names` (empty for static axes).
struct TensorSpec {
  std::string name;
  DType dtype = DType::kUnknown;
  std::vector<int64_t> shape;
  std::vector<std::string> dim_names;
};

struct StageSpec {
  std::string name;
  std::string file;  // "<stage>.onnx"
  int opset = 0;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
};

struct FileEntry {
  std::string name;
  int64_t bytes = 0;
  std::string sha256;  // 64 lowercase hex digits
};

// One row of the modality table; `index` is the value input_modality / target_modality use.
struct ModalityEntry {
  int index = 0;
  std::string name;        // model key, e.g. "tok_cam"
  std::string short_name;  // e.g. "cam"
  int64_t id = 0;
  std::string kind;  // "video" or "trajectory"
  int64_t vocab_size = 0;
  std::vector<int64_t> token_shape;
  std::string encoder_stage;  // empty when not exported
  std::string decoder_stage;  // empty when not exported
  bool backbone_input = false;
  bool backbone_target = false;
  int64_t num_tokens() const;
};

struct VideoSpec {
  int size = 0;    // S: frames are S x S after crop + resize
  int frames = 0;  // F: video samples per window
  int fps = 0;
  std::vector<int64_t> token_grid;  // (t, h, w)
  int64_t vocab_size = 0;
};

struct TrajectorySpec {
  int samples = 0;  // T per window
  int rate_hz = 0;
  int tokens = 0;  // K per window
};

struct BackboneSpec {
  int64_t dim = 0;
  int64_t decoder_vocab_size = 0;  // V of the logits
  std::vector<std::string> decoder_targets;
};

// Default decoding of one target.
struct DecodingDefaults {
  std::string mode;  // "official", "joint" or "single_pass"
  int steps = 1;
  std::string scheme;    // "roar" or "maskgit"
  std::string schedule;  // "linear" or "cosine"
  double temperature = 0.0;
  std::string temperature_schedule;  // "constant", "linear" or "onex:MIN:POWER"
  double guidance_scale = 1.0;
  double top_p = 0.0;
  double top_k = 0.0;
};

struct DecodingSpec {
  std::map<std::string, DecodingDefaults> targets;
  std::vector<std::string> default_targets;
  std::vector<std::string> condition;  // modalities emptied in the unconditional pass
  bool grow_conditioning = true;
};

struct SessionOptionsSpec {
  int intra_op_threads = 1;
  int inter_op_threads = 1;
  std::string graph_optimization = "all";
  std::string execution_mode = "sequential";
};

// One TensorRT engine built from a stage by egom2p build-engines (bundle.json "engines"; the
// Python side: egom2p_edge.bundle.engines). An engine runs only with its TensorRT version, on its
// GPU, for input shapes inside its profile.
struct EngineRecord {
  std::string stage;
  std::string file;       // inside the bundle, listed in `files`
  std::string precision;  // "fp32", "fp16" or "int8"
  std::string tensorrt_version;
  std::string gpu_name;
  std::string compute_capability;
  // input -> {min, opt, max} shapes of the optimisation profile
  std::map<std::string, std::vector<std::vector<int64_t>>> profile;
};

struct BundleManifest {
  std::string root;  // the bundle folder
  int format_version = 0;
  std::string sdk_version;
  std::string preset_name;
  std::string preset_precision = "fp32";               // "fp32", "fp16" or "int8"
  std::map<std::string, std::string> stage_precision;  // "precision.stages" (absent: preset's)
  std::vector<EngineRecord> engines;                   // "engines" (absent: none)
  SessionOptionsSpec session_options;
  std::vector<FileEntry> files;
  std::map<std::string, StageSpec> stages;
  std::vector<ModalityEntry> modalities;  // by index
  std::optional<TrajectorySpec> trajectory;
  std::optional<VideoSpec> video;
  std::optional<BackboneSpec> backbone;
  std::optional<DecodingSpec> decoding;

  // A modality by model key ("tok_cam") or short name ("cam"); nullptr when absent.
  const ModalityEntry* FindModality(const std::string& name) const;
  bool HasStage(const std::string& stage) const { return stages.count(stage) > 0; }
  std::string StagePath(const std::string& stage) const;
  // The precision of a stage's graph: "precision.stages", else the preset's.
  std::string StagePrecision(const std::string& stage) const;
};

// Parses and checks the manifest text (no file access). `source` names it in errors.
Result<BundleManifest> ParseBundleManifest(const std::string& json_text, const std::string& source);

// Reads <bundle_dir>/bundle.json and parses it (NotFound for a missing folder or manifest).
Result<BundleManifest> ReadBundleManifest(const std::string& bundle_dir);

// Every listed file exists with its size (and, when asked, its sha256).
Status CheckBundleFiles(const BundleManifest& manifest, bool check_hashes);

// ReadBundleManifest + CheckBundleFiles.
Result<BundleManifest> LoadBundle(const std::string& bundle_dir, bool check_hashes = true);

// The engine's inputs and outputs are exactly the stage's (names, order, dtypes, static sizes).
Status CheckEngineMatchesStage(const Engine& engine, const StageSpec& stage);

}  // namespace egom2p
