// Tests of the ONNX Runtime engine: description of inputs/outputs, numerics, and errors for a
// missing file, a corrupt file, a wrong shape, a wrong dtype and a wrong input name.
#include "egom2p/engine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "egom2p/build_info.h"

namespace egom2p {
namespace {

const std::string kModels = EGOM2P_TEST_MODELS_DIR;

std::unique_ptr<Engine> LoadAffine() {
  EngineOptions opts;
  opts.intra_op_threads = 1;
  auto r = CreateOrtEngine(kModels + "/affine.onnx", opts);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r.value());
}

Tensor Input(int64_t batch) {
  Tensor x = Tensor::Zeros("x", DType::kFloat32, {batch, 4});
  for (int64_t i = 0; i < batch * 4; ++i) x.Data<float>()[i] = 0.25f * static_cast<float>(i) - 1.f;
  return x;
}

TEST(OrtEngine, DescribesInputsAndOutputs) {
  auto engine = LoadAffine();
  ASSERT_EQ(engine->inputs().size(), 1u);
  EXPECT_EQ(engine->inputs()[0].name, "x");
  EXPECT_EQ(engine->inputs()[0].dtype, DType::kFloat32);
  ASSERT_EQ(engine->inputs()[0].shape.size(), 2u);
  EXPECT_EQ(engine->inputs()[0].shape[0], -1);
  EXPECT_EQ(engine->inputs()[0].dim_names[0], "batch");
  EXPECT_EQ(engine->inputs()[0].shape[1], 4);
  EXPECT_EQ(engine->inputs()[0].ShapeString(), "[batch, 4]");
  ASSERT_EQ(engine->outputs().size(), 1u);
  EXPECT_EQ(engine->outputs()[0].name, "y");
}

TEST(OrtEngine, MatchesHandComputedAffineRelu) {
  auto engine = LoadAffine();
  Tensor x = Input(3);
  std::vector<Tensor> outputs;
  ASSERT_TRUE(engine->Run({x}, &outputs).ok());
  ASSERT_EQ(outputs.size(), 1u);
  ASSERT_EQ(outputs[0].shape, (std::vector<int64_t>{3, 3}));
  const float b[3] = {0.1f, -0.2f, 0.3f};
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) {
      double acc = b[c];
      for (int k = 0; k < 4; ++k) {
        double w = (k * 3 + c) / 10.0 - 0.5;
        acc += x.Data<float>()[r * 4 + k] * w;
      }
      EXPECT_NEAR(outputs[0].Data<float>()[r * 3 + c], std::max(acc, 0.0), 1e-6);
    }
  }
}

TEST(OrtEngine, MissingFileIsNotFound) {
  auto r = CreateOrtEngine(kModels + "/does_not_exist.onnx", EngineOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("does_not_exist.onnx"), std::string::npos);
}

TEST(OrtEngine, CorruptFileIsRejectedWithItsName) {
  auto r = CreateOrtEngine(kModels + "/corrupt.onnx", EngineOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("corrupt.onnx"), std::string::npos);
}

TEST(OrtEngine, WrongShapeNamesExpectedAndGiven) {
  auto engine = LoadAffine();
  Tensor x = Tensor::Zeros("x", DType::kFloat32, {2, 5});
  std::vector<Tensor> outputs;
  Status s = engine->Run({x}, &outputs);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("[batch, 4]"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("[2, 5]"), std::string::npos) << s.message();
}

TEST(OrtEngine, WrongDtypeAndUnknownNameAndMissingInput) {
  auto engine = LoadAffine();
  std::vector<Tensor> outputs;
  Status s = engine->Run({Tensor::Zeros("x", DType::kInt64, {1, 4})}, &outputs);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("float32"), std::string::npos);
  s = engine->Run({Tensor::Zeros("z", DType::kFloat32, {1, 4})}, &outputs);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("no input named 'z'"), std::string::npos);
  s = engine->Run({}, &outputs);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("was not given"), std::string::npos);
}

TEST(OrtEngine, InvalidOptimizationLevelIsRejected) {
  EngineOptions opts;
  opts.graph_optimization = "fastest";
  auto r = CreateOrtEngine(kModels + "/affine.onnx", opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(BuildInfo, ReportsBothOnnxRuntimeVersions) {
  BuildInfo info = GetBuildInfo();
  EXPECT_FALSE(info.onnxruntime_library_version.empty());
  EXPECT_NE(info.onnxruntime_headers_version, "unknown");
}

}  // namespace
}  // namespace egom2p
