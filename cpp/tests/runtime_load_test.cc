// Runtime::Load refuses what it cannot run with a status (never a crash): another backend, a
// missing folder, a bundle without the streaming stages, files that are not ONNX graphs.
#include <gtest/gtest.h>

#include <string>

#include "egom2p/runtime.h"
#include "test_bundle_json.h"

namespace egom2p {
namespace {

void ExpectRefused(const Result<std::shared_ptr<const Runtime>>& r, StatusCode code,
                   const std::string& want) {
  ASSERT_FALSE(r.ok()) << want;
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().message();
}

TEST(RuntimeLoad, RefusesAnotherBackendAndBadThreads) {
  RuntimeOptions o;
  o.backend = "tensorrt";
  ExpectRefused(Runtime::Load("anywhere", o), StatusCode::kUnavailable, "'tensorrt'");
  o = RuntimeOptions();
  o.threads = -1;
  ExpectRefused(Runtime::Load("anywhere", o), StatusCode::kInvalidArgument, "threads");
}

TEST(RuntimeLoad, RefusesAMissingFolder) {
  ExpectRefused(Runtime::Load(::testing::TempDir() + "/no_bundle_here"), StatusCode::kNotFound,
                "does not exist");
}

TEST(RuntimeLoad, RefusesABundleWithoutStreamingStages) {
  nlohmann::json m = testing_bundle::Manifest();
  for (const char* stage : {"video_encoder", "backbone_encoder", "backbone_decoder"}) {
    m["stages"].erase(stage);
  }
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : m["files"]) {
    const std::string name = f["name"];
    if (name.rfind("video_", 0) != 0 && name.rfind("backbone_", 0) != 0) files.push_back(f);
  }
  m["files"] = files;
  m.erase("backbone");
  m.erase("decoding");
  m["modalities"][2]["backbone_input"] = false;
  ExpectRefused(Runtime::Load(testing_bundle::WriteBundle("no_backbone", m)),
                StatusCode::kFailedPrecondition, "streaming needs the stages");
}

TEST(RuntimeLoad, RefusesFilesThatAreNotGraphs) {
  ExpectRefused(
      Runtime::Load(testing_bundle::WriteBundle("not_graphs", testing_bundle::Manifest())),
      StatusCode::kFailedPrecondition, ".onnx");
}

}  // namespace
}  // namespace egom2p
