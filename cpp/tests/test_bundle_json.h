// A complete bundle.json for the C++ bundle, stream-config and plan tests (the shape of what
// egom2p export writes for an ego-tiny bundle), built with nlohmann::json so a test can break one
// field at a time.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "egom2p/sha256.h"

namespace egom2p {
namespace testing_bundle {

inline nlohmann::json Tensor(const std::string& name, const std::string& dtype,
                             nlohmann::json shape) {
  return {{"name", name}, {"dtype", dtype}, {"shape", std::move(shape)}};
}

inline nlohmann::json Output(const std::string& name, const std::string& dtype,
                             nlohmann::json shape, const std::string& compare) {
  nlohmann::json t = Tensor(name, dtype, std::move(shape));
  t["compare"] = compare;
  return t;
}

inline nlohmann::json Stage(const std::string& name, nlohmann::json inputs,
                            nlohmann::json outputs) {
  return {{"file", name + ".onnx"},      {"component", "test"},
          {"exporter", "dynamo"},        {"opset", 18},
          {"inputs", std::move(inputs)}, {"outputs", std::move(outputs)}};
}

inline nlohmann::json Modality(int index, const std::string& name, const std::string& short_name,
                               nlohmann::json token_shape, const std::string& decoder,
                               bool target) {
  return {{"index", index},
          {"name", name},
          {"short", short_name},
          {"id", 100 + index},
          {"kind", name == "tok_rgb" ? "video" : "trajectory"},
          {"vocab_size", name == "tok_rgb" ? 64000 : 256},
          {"token_shape", std::move(token_shape)},
          {"pos_emb", name == "tok_rgb" ? "sincos_3d" : "sincos_1d"},
          {"encoder_stage", nullptr},
          {"decoder_stage", decoder.empty() ? nlohmann::json(nullptr) : nlohmann::json(decoder)},
          {"backbone_input", true},
          {"backbone_target", target}};
}

inline nlohmann::json Defaults(int steps) {
  return {{"mode", "official"},    {"steps", steps},      {"scheme", "roar"},
          {"schedule", "linear"},  {"temperature", 0.01}, {"temperature_schedule", "constant"},
          {"guidance_scale", 2.0}, {"top_p", 0.8},        {"top_k", 0.0}};
}

inline nlohmann::json File(const std::string& name) {
  return {{"name", name}, {"bytes", 0}, {"sha256", std::string(64, '0')}};
}

// Stages video_encoder, backbone_encoder, backbone_decoder, gaze_decoder and cam_decoder;
// modalities tok_cam (0), tok_gaze (1), tok_rgb (2); 128 x 128 video, 5 x 16 x 16 tokens.
inline nlohmann::json Manifest() {
  using J = nlohmann::json;
  J stages = {
      {"video_encoder",
       Stage("video_encoder", J::array({Tensor("frames_uint8", "uint8", {1, 16, 128, 128, 3})}),
             J::array({Output("video_ids", "int64", {1, 5, 16, 16}, "ids")}))},
      {"backbone_encoder",
       Stage("backbone_encoder",
             J::array({Tensor("input_ids", "int64", {"batch", "input_tokens"}),
                       Tensor("input_modality", "int64", {"batch", "input_tokens"}),
                       Tensor("input_positions", "int64", {"batch", "input_tokens"}),
                       Tensor("input_valid", "bool", {"batch", "input_tokens"})}),
             J::array({Output("context", "float32", {"batch", "input_tokens", 192}, "float")}))},
      {"backbone_decoder",
       Stage("backbone_decoder",
             J::array({Tensor("context", "float32", {"batch", "input_tokens", 192}),
                       Tensor("context_valid", "bool", {"batch", "input_tokens"}),
                       Tensor("target_modality", "int64", {"batch", "target_tokens"}),
                       Tensor("target_positions", "int64", {"batch", "target_tokens"})}),
             J::array({Output("logits", "float32", {"batch", "target_tokens", 256}, "logits")}))},
      {"gaze_decoder",
       Stage("gaze_decoder", J::array({Tensor("gaze_ids", "int64", {"batch", 30})}),
             J::array({Output("gaze_xy_norm", "float32", {"batch", 60, 2}, "float")}))},
      {"cam_decoder",
       Stage("cam_decoder", J::array({Tensor("cam_ids", "int64", {"batch", 30})}),
             J::array({Output("cam_9d", "float32", {"batch", 60, 9}, "float"),
                       Output("T_window_camera", "float32", {"batch", 60, 4, 4}, "float")}))},
  };
  J files = J::array({File("goldens.safetensors")});
  for (const auto& [name, stage] : stages.items()) files.push_back(File(name + ".onnx"));
  return {
      {"magic", "egom2p-edge-bundle"},
      {"format_version", 1},
      {"created_utc", "2026-01-01T00:00:00Z"},
      {"sdk_version", "0.1.0"},
      {"preset",
       {{"name", "cpu-fp32"},
        {"precision", "fp32"},
        {"device", "cpu"},
        {"backend", "onnxruntime"}}},
      {"session_options",
       {{"intra_op_threads", 1},
        {"inter_op_threads", 1},
        {"graph_optimization", "all"},
        {"execution_mode", "sequential"}}},
      {"tolerances", {{"float_atol", 1e-4}, {"frames_max_diff", 1}}},
      {"files", files},
      {"stages", stages},
      {"modalities", J::array({Modality(0, "tok_cam", "cam", {30}, "cam_decoder", true),
                               Modality(1, "tok_gaze", "gaze", {30}, "gaze_decoder", true),
                               Modality(2, "tok_rgb", "rgb", {5, 16, 16}, "", false)})},
      {"trajectory", {{"samples", 60}, {"rate_hz", 30}, {"tokens", 30}}},
      {"video",
       {{"size", 128},
        {"frames", 16},
        {"fps", 8},
        {"token_grid", {5, 16, 16}},
        {"vocab_size", 64000},
        {"time_padding", {0, 1}}}},
      {"backbone",
       {{"dim", 192}, {"decoder_vocab_size", 256}, {"decoder_targets", {"tok_cam", "tok_gaze"}}}},
      {"decoding",
       {{"targets", {{"tok_cam", Defaults(3)}, {"tok_gaze", Defaults(5)}}},
        {"default_targets", {"tok_gaze", "tok_cam"}},
        {"condition", {"tok_rgb"}},
        {"grow_conditioning", true}}},
      {"provenance", J::object()},
  };
}

// Writes a bundle folder under the test temp dir: every listed file with some content and its
// true size and sha256 (the ONNX files are not real graphs).
inline std::string WriteBundle(const std::string& name, nlohmann::json manifest) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(::testing::TempDir()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (auto& f : manifest["files"]) {
    const std::string content = "contents of " + f["name"].get<std::string>();
    std::ofstream(dir / f["name"].get<std::string>(), std::ios::binary) << content;
    f["bytes"] = content.size();
    f["sha256"] = Sha256BufferHex(content.data(), content.size());
  }
  std::ofstream(dir / "bundle.json") << manifest.dump(1);
  return dir.string();
}

}  // namespace testing_bundle
}  // namespace egom2p
