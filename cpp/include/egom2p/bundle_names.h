// Every name of the bundle contract, mirrored from python/egom2p_edge/bundle/names.py (where each
// tensor is documented). A test compares AllBundleNames() with the Python all_names().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace egom2p {
namespace bundle_names {

// ----- the bundle folder ---------------------------------------------------------------------
inline constexpr const char* kBundleMagic = "egom2p-edge-bundle";
inline constexpr int kFormatVersion = 1;  // a reader refuses a newer one
inline constexpr const char* kManifestFile = "bundle.json";
inline constexpr const char* kGoldensFile = "goldens.safetensors";
inline constexpr const char* kOnnxSuffix = ".onnx";

// ----- stages --------------------------------------------------------------------------------
inline constexpr const char* kVideoEncoder = "video_encoder";
inline constexpr const char* kVideoDecoder = "video_decoder";
inline constexpr const char* kCamEncoder = "cam_encoder";
inline constexpr const char* kCamDecoder = "cam_decoder";
inline constexpr const char* kGazeEncoder = "gaze_encoder";
inline constexpr const char* kGazeDecoder = "gaze_decoder";
inline constexpr const char* kBackboneEncoder = "backbone_encoder";
inline constexpr const char* kBackboneDecoder = "backbone_decoder";

// ----- dynamic axes --------------------------------------------------------------------------
inline constexpr const char* kDimBatch = "batch";
inline constexpr const char* kDimInputTokens = "input_tokens";
inline constexpr const char* kDimTargetTokens = "target_tokens";

// Values of a padding slot (input_valid / context_valid false).
inline constexpr int64_t kPadId = 0;
inline constexpr int64_t kPadModality = -1;
inline constexpr int64_t kPadPosition = -1;

// ----- tensors -------------------------------------------------------------------------------
inline constexpr const char* kFramesUint8 = "frames_uint8";
inline constexpr const char* kVideoIds = "video_ids";
inline constexpr const char* kCam9dNorm = "cam_9d_norm";
inline constexpr const char* kCamIds = "cam_ids";
inline constexpr const char* kCam9d = "cam_9d";
inline constexpr const char* kTWindowCamera = "T_window_camera";
inline constexpr const char* kGazeInput = "gaze_input";
inline constexpr const char* kGazeIds = "gaze_ids";
inline constexpr const char* kGazeXyNorm = "gaze_xy_norm";
inline constexpr const char* kInputIds = "input_ids";
inline constexpr const char* kInputModality = "input_modality";
inline constexpr const char* kInputPositions = "input_positions";
inline constexpr const char* kInputValid = "input_valid";
inline constexpr const char* kContext = "context";
inline constexpr const char* kContextValid = "context_valid";
inline constexpr const char* kTargetModality = "target_modality";
inline constexpr const char* kTargetPositions = "target_positions";
inline constexpr const char* kLogits = "logits";

// ----- how verification compares an output with its golden ----------------------------------
inline constexpr const char* kCompareIds = "ids";
inline constexpr const char* kCompareFloat = "float";
inline constexpr const char* kCompareLogits = "logits";
inline constexpr const char* kCompareFrames = "frames";

// The input and output tensor names of each stage, in graph order.
struct StageTensorNames {
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
};

inline const std::map<std::string, StageTensorNames>& StageTensors() {
  static const std::map<std::string, StageTensorNames> kStages = {
      {kVideoEncoder, {{kFramesUint8}, {kVideoIds}}},
      {kVideoDecoder, {{kVideoIds}, {kFramesUint8}}},
      {kCamEncoder, {{kCam9dNorm}, {kCamIds}}},
      {kCamDecoder, {{kCamIds}, {kCam9d, kTWindowCamera}}},
      {kGazeEncoder, {{kGazeInput}, {kGazeIds}}},
      {kGazeDecoder, {{kGazeIds}, {kGazeXyNorm}}},
      {kBackboneEncoder, {{kInputIds, kInputModality, kInputPositions, kInputValid}, {kContext}}},
      {kBackboneDecoder, {{kContext, kContextValid, kTargetModality, kTargetPositions}, {kLogits}}},
  };
  return kStages;
}

// The name sets of python all_names(): magic, files, stages, tensors, dims, compare.
inline std::map<std::string, std::vector<std::string>> AllBundleNames() {
  std::map<std::string, std::vector<std::string>> out;
  out["magic"] = {kBundleMagic};
  out["files"] = {kManifestFile, kGoldensFile};
  for (const auto& [stage, tensors] : StageTensors()) {
    out["stages"].push_back(stage);
    for (const auto& t : tensors.inputs) out["tensors"].push_back(t);
    for (const auto& t : tensors.outputs) out["tensors"].push_back(t);
  }
  out["dims"] = {kDimBatch, kDimInputTokens, kDimTargetTokens};
  out["compare"] = {kCompareIds, kCompareFloat, kCompareLogits, kCompareFrames};
  return out;
}

}  // namespace bundle_names
}  // namespace egom2p
