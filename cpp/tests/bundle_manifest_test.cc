// Tests of the bundle.json reader: a complete manifest parses, and each kind of bad manifest is
// refused with a status naming the file and the field (magic and version checked first).
#include <gtest/gtest.h>

#include <string>

#include "egom2p/bundle.h"
#include "test_bundle_json.h"

namespace egom2p {
namespace {

using nlohmann::json;

Result<BundleManifest> Parse(const json& j) {
  return ParseBundleManifest(j.dump(), "b/bundle.json");
}

// The parse fails with FailedPrecondition and a message holding `want`.
void ExpectRefused(const json& j, const std::string& want) {
  Result<BundleManifest> r = Parse(j);
  ASSERT_FALSE(r.ok()) << "accepted a manifest that should say: " << want;
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().rfind("b/bundle.json: ", 0), 0u) << r.status().message();
}

TEST(BundleManifest, ParsesACompleteManifest) {
  Result<BundleManifest> r = Parse(testing_bundle::Manifest());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const BundleManifest& m = r.value();
  EXPECT_EQ(m.format_version, 1);
  EXPECT_EQ(m.stages.size(), 5u);
  EXPECT_EQ(m.video->size, 128);
  EXPECT_EQ(m.trajectory->samples, 60);
  ASSERT_NE(m.FindModality("gaze"), nullptr);
  EXPECT_EQ(m.FindModality("gaze")->name, "tok_gaze");
  EXPECT_EQ(m.FindModality("tok_rgb")->num_tokens(), 1280);
  EXPECT_EQ(m.FindModality("depth"), nullptr);
  EXPECT_EQ(m.decoding->targets.at("tok_gaze").steps, 5);
  EXPECT_DOUBLE_EQ(m.decoding->targets.at("tok_cam").top_p, 0.8);
  const TensorSpec& ids = m.stages.at("backbone_encoder").inputs[0];
  EXPECT_EQ(ids.dtype, DType::kInt64);
  EXPECT_EQ(ids.shape, (std::vector<int64_t>{-1, -1}));
  EXPECT_EQ(ids.dim_names, (std::vector<std::string>{"batch", "input_tokens"}));
}

TEST(BundleManifest, ChecksMagicBeforeAnythingElse) {
  json j = testing_bundle::Manifest();
  j["magic"] = "other";
  j.erase("stages");
  ExpectRefused(j, "field 'magic' must be \"egom2p-edge-bundle\", found \"other\"");
  ExpectRefused(json::array({1, 2}), "field 'magic'");
}

TEST(BundleManifest, RefusesANewerFormatVersion) {
  json j = testing_bundle::Manifest();
  j["format_version"] = 2;
  ExpectRefused(j, "newer than this runtime reads");
  j["format_version"] = "1";
  ExpectRefused(j, "field 'format_version' must be a positive integer");
}

TEST(BundleManifest, RefusesInvalidJson) {
  Result<BundleManifest> r = ParseBundleManifest("{\"magic\": ", "b/bundle.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not valid JSON"), std::string::npos);
}

TEST(BundleManifest, NamesTheBadField) {
  json j = testing_bundle::Manifest();
  j["video"]["size"] = "128";
  ExpectRefused(j, "field 'video.size' must be an integer, found \"128\"");
  j = testing_bundle::Manifest();
  j["decoding"]["targets"]["tok_cam"]["top_p"] = 1.5;
  ExpectRefused(j, "field 'decoding.targets.tok_cam.top_p' must be in [0, 1]");
  j = testing_bundle::Manifest();
  j["decoding"]["targets"]["tok_gaze"]["mode"] = "fast";
  ExpectRefused(j, "field 'decoding.targets.tok_gaze.mode' must be one of");
  j = testing_bundle::Manifest();
  j["session_options"].erase("execution_mode");
  ExpectRefused(j, "field 'session_options.execution_mode' is missing");
}

TEST(BundleManifest, ChecksStagesAndTensors) {
  json j = testing_bundle::Manifest();
  j["stages"]["depth_decoder"] = j["stages"]["gaze_decoder"];
  ExpectRefused(j, "field 'stages.depth_decoder' is not a known stage");
  j = testing_bundle::Manifest();
  std::swap(j["stages"]["backbone_encoder"]["inputs"][0],
            j["stages"]["backbone_encoder"]["inputs"][1]);
  ExpectRefused(j, "field 'stages.backbone_encoder.inputs' must name");
  j = testing_bundle::Manifest();
  j["stages"]["gaze_decoder"]["inputs"][0]["dtype"] = "float64";
  ExpectRefused(j, "field 'stages.gaze_decoder.inputs[0].dtype' must be one of");
  j = testing_bundle::Manifest();
  j["stages"]["gaze_decoder"]["inputs"][0]["shape"][0] = "frames";
  ExpectRefused(j, "entry 0 must be an integer >= 1 or one of");
  j = testing_bundle::Manifest();
  j["stages"]["gaze_decoder"]["file"] = "other.onnx";
  ExpectRefused(j, "field 'stages.gaze_decoder.file' must be \"gaze_decoder.onnx\"");
}

TEST(BundleManifest, ChecksFilesAndCrossFieldRules) {
  json j = testing_bundle::Manifest();
  j["files"][0]["sha256"] = "XYZ";
  ExpectRefused(j, "field 'files[0].sha256' must be 64 lowercase hex digits");
  j = testing_bundle::Manifest();
  j["files"][1]["name"] = "../escape.onnx";
  ExpectRefused(j, "must be a plain file name");
  j = testing_bundle::Manifest();
  j["files"].erase(0);
  ExpectRefused(j, "field 'files' must list goldens.safetensors");
  j = testing_bundle::Manifest();
  j["modalities"][0]["index"] = 5;
  ExpectRefused(j, "must be listed by index");
  j = testing_bundle::Manifest();
  j["backbone"]["decoder_targets"] = {"tok_cam", "tok_rgb"};
  ExpectRefused(j, "field 'backbone.decoder_targets' names 'tok_rgb'");
  j = testing_bundle::Manifest();
  j["decoding"]["condition"] = {"tok_depth"};
  ExpectRefused(j, "field 'decoding.condition' names the unknown modality 'tok_depth'");
  j = testing_bundle::Manifest();
  j.erase("decoding");
  ExpectRefused(j, "must be present exactly when the stage backbone_encoder is");
}

}  // namespace
}  // namespace egom2p
