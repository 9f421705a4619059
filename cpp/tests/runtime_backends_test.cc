// GPU backends as far as a CPU machine can test them: provider resolution (an unavailable
// provider is an error naming what exists, or skipped when fallback is allowed), an ONNX Runtime
// engine made through the provider path, the manifest's engine records and their selection, and
// the TensorRT backend reporting Unavailable in builds without TensorRT.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "egom2p/backends.h"
#include "egom2p/runtime.h"
#include "test_bundle_json.h"

namespace egom2p {
namespace {

const std::vector<std::string> kCpuOnly = {"AzureExecutionProvider", "CPUExecutionProvider"};

TEST(Providers, CpuResolvesAndMissingProvidersAreReported) {
  ProviderOptions o;
  Result<std::vector<std::string>> r = ResolveProviders(o, kCpuOnly);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), std::vector<std::string>{"cpu"});
  o.providers = {"tensorrt", "cuda", "cpu"};
  r = ResolveProviders(o, kCpuOnly);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("'tensorrt' (TensorrtExecutionProvider)"), std::string::npos);
  EXPECT_NE(r.status().message().find("allow_fallback"), std::string::npos);
  o.allow_fallback = true;
  r = ResolveProviders(o, kCpuOnly);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), std::vector<std::string>{"cpu"});
  o.providers = {"tensorrt"};  // nothing left: the CPU
  EXPECT_EQ(ResolveProviders(o, kCpuOnly).value(), std::vector<std::string>{"cpu"});
  const std::vector<std::string> gpu = {"TensorrtExecutionProvider", "CUDAExecutionProvider",
                                        "CPUExecutionProvider"};
  o.providers = {"cuda", "tensorrt", "cpu"};
  EXPECT_EQ(ResolveProviders(o, gpu).value(), o.providers);
}

TEST(Providers, BadNamesAreRefused) {
  ProviderOptions o;
  for (auto bad : std::vector<std::vector<std::string>>{{}, {"gpu"}, {"cpu", "cpu"}}) {
    o.providers = bad;
    EXPECT_EQ(ResolveProviders(o, kCpuOnly).status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(Providers, TheLoadedLibraryHasTheCpu) {
  const std::vector<std::string> have = OrtAvailableProviders();
  EXPECT_NE(std::find(have.begin(), have.end(), "CPUExecutionProvider"), have.end());
}

TEST(Providers, EngineCacheDirFollowsTheEnvironment) {
  setenv("EGOM2P_ENGINE_CACHE", "/tmp/egom2p-cache-test", 1);
  EXPECT_EQ(DefaultEngineCacheDir(), "/tmp/egom2p-cache-test/ort-tensorrt");
  unsetenv("EGOM2P_ENGINE_CACHE");
  EXPECT_NE(DefaultEngineCacheDir().find(".cache/egom2p-edge/ort-tensorrt"), std::string::npos);
}

TEST(Providers, ProviderEngineRunsOnTheCpu) {
  ProviderOptions p;  // {"cpu"}
  auto e = CreateOrtProviderEngine(std::string(EGOM2P_TEST_MODELS_DIR) + "/affine.onnx",
                                   EngineOptions{}, p);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e.value()->backend(), "onnxruntime:cpu");
  Tensor x = Tensor::Zeros("x", DType::kFloat32, {1, 4});
  for (int i = 0; i < 4; ++i) x.Data<float>()[i] = static_cast<float>(i + 1);
  std::vector<Tensor> out;
  ASSERT_TRUE(e.value()->Run({x}, &out).ok());
  // y = relu(x @ W + b), W = arange(12).reshape(4, 3) / 10 - 0.5, b = [0.1, -0.2, 0.3]
  const float w[12] = {-0.5f, -0.4f, -0.3f, -0.2f, -0.1f, 0.0f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};
  const float b[3] = {0.1f, -0.2f, 0.3f};
  for (int j = 0; j < 3; ++j) {
    float acc = b[j];
    for (int i = 0; i < 4; ++i) acc += static_cast<float>(i + 1) * w[i * 3 + j];
    EXPECT_NEAR(out[0].Data<float>()[j], std::max(acc, 0.0f), 1e-5);
  }
  Tensor bad = Tensor::Zeros("x", DType::kInt64, {1, 4});
  EXPECT_EQ(e.value()->Run({bad}, &out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateOrtProviderEngine("/nowhere.onnx", EngineOptions{}, p).status().code(),
            StatusCode::kNotFound);
}

nlohmann::json EngineRecordJson(const std::string& stage, const std::string& gpu) {
  return {{"stage", stage},
          {"file", stage + ".0123456789abcdef.engine"},
          {"precision", "fp16"},
          {"tensorrt_version", "10.3.0"},
          {"gpu_name", gpu},
          {"compute_capability", "8.7"},
          {"profile", {{"cam_ids", {{"min", {1, 30}}, {"opt", {1, 30}}, {"max", {2, 30}}}}}},
          {"onnx_sha256", std::string(64, 'a')},
          {"cache_key", std::string(64, 'b')},
          {"built_utc", "2026-01-01T00:00:00Z"},
          {"options", nlohmann::json::object()}};
}

TEST(EngineRecords, ParsedAndSelectedByVersionAndGpu) {
  nlohmann::json m = testing_bundle::Manifest();
  m["preset"]["precision"] = "int8";
  m["precision"] = {{"default", "int8"},
                    {"stages", {{"cam_decoder", {{"precision", "fp32"}}}}},
                    {"reference", nlohmann::json::object()}};
  m["engines"] = {EngineRecordJson("cam_decoder", "Orin")};
  m["files"].push_back(testing_bundle::File("cam_decoder.0123456789abcdef.engine"));
  Result<BundleManifest> r = ParseBundleManifest(m.dump(), "b/bundle.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const BundleManifest& b = r.value();
  EXPECT_EQ(b.preset_precision, "int8");
  EXPECT_EQ(b.StagePrecision("cam_decoder"), "fp32");
  EXPECT_EQ(b.StagePrecision("backbone_encoder"), "int8");
  ASSERT_EQ(b.engines.size(), 1u);
  EXPECT_EQ(b.engines[0].profile.at("cam_ids")[2], (std::vector<int64_t>{2, 30}));
  TensorRtDevice orin{"10.3.0.30", "Orin", "8.7"};
  Result<const EngineRecord*> sel = SelectEngineRecord(b, "cam_decoder", orin);
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel.value()->gpu_name, "Orin");
  TensorRtDevice other{"10.3.0", "NVIDIA H100", "9.0"};
  sel = SelectEngineRecord(b, "cam_decoder", other);
  ASSERT_FALSE(sel.ok());
  EXPECT_NE(sel.status().message().find("TensorRT 10.3.0 on Orin"), std::string::npos);
  sel = SelectEngineRecord(b, "gaze_decoder", orin);
  EXPECT_NE(sel.status().message().find("no TensorRT engine for gaze_decoder"), std::string::npos);
}

TEST(EngineRecords, AnEngineOfAnUnknownStageOrFileIsRefused) {
  nlohmann::json m = testing_bundle::Manifest();
  m["engines"] = {EngineRecordJson("cam_decoder", "Orin")};
  Result<BundleManifest> r = ParseBundleManifest(m.dump(), "b/bundle.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("engines[0].file"), std::string::npos);
}

TEST(TensorRt, UnavailableWithoutTensorRt) {
  if (TensorRtBuilt()) GTEST_SKIP() << "this build has TensorRT";
  EXPECT_EQ(ProbeTensorRt(0).status().code(), StatusCode::kUnavailable);
  RuntimeOptions o;
  o.backend = "tensorrt";
  auto rt = Runtime::Load("anywhere", o);
  ASSERT_FALSE(rt.ok());
  EXPECT_NE(rt.status().message().find("backend 'tensorrt' is not available"), std::string::npos);
}

TEST(RuntimeLoadProviders, AMissingProviderIsReportedBeforeTheBundleIsRead) {
  const std::vector<std::string> have = OrtAvailableProviders();
  if (std::find(have.begin(), have.end(), "TensorrtExecutionProvider") != have.end()) {
    GTEST_SKIP() << "this ONNX Runtime has TensorRT";
  }
  RuntimeOptions o;
  o.providers = {"tensorrt", "cpu"};
  auto rt = Runtime::Load("anywhere", o);
  EXPECT_EQ(rt.status().code(), StatusCode::kUnavailable);
  o.allow_fallback = true;  // now the (missing) bundle is what fails
  EXPECT_EQ(Runtime::Load("anywhere", o).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace egom2p
