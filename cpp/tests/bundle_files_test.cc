// Tests of reading a bundle folder: a complete folder loads; a missing folder or manifest, a
// missing, truncated or altered file each give a status naming the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "egom2p/bundle.h"
#include "test_bundle_json.h"

namespace egom2p {
namespace {

namespace fs = std::filesystem;

void ExpectError(const Result<BundleManifest>& r, StatusCode code, const std::string& want) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().message();
}

TEST(BundleFiles, LoadsACompleteFolder) {
  const std::string dir = testing_bundle::WriteBundle("complete", testing_bundle::Manifest());
  Result<BundleManifest> r = LoadBundle(dir);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r.value().root, dir);
  EXPECT_EQ(r.value().StagePath("gaze_decoder"), dir + "/gaze_decoder.onnx");
}

TEST(BundleFiles, MissingFolderOrManifestIsNotFound) {
  ExpectError(LoadBundle(::testing::TempDir() + "/no_such_bundle"), StatusCode::kNotFound,
              "does not exist");
  const fs::path dir = fs::path(::testing::TempDir()) / "no_manifest";
  fs::create_directories(dir);
  ExpectError(LoadBundle(dir.string()), StatusCode::kNotFound, "bundle.json is missing");
}

TEST(BundleFiles, MissingListedFileIsNamed) {
  const std::string dir = testing_bundle::WriteBundle("missing", testing_bundle::Manifest());
  fs::remove(fs::path(dir) / "cam_decoder.onnx");
  ExpectError(LoadBundle(dir), StatusCode::kFailedPrecondition, "cam_decoder.onnx is missing");
}

TEST(BundleFiles, AlteredFilesAreRefused) {
  const std::string dir = testing_bundle::WriteBundle("altered", testing_bundle::Manifest());
  std::ofstream(fs::path(dir) / "gaze_decoder.onnx", std::ios::app) << "x";
  ExpectError(LoadBundle(dir), StatusCode::kFailedPrecondition, "bytes but");
  // Same size, different content: only the hash sees it.
  const std::string dir2 = testing_bundle::WriteBundle("altered2", testing_bundle::Manifest());
  const fs::path f = fs::path(dir2) / "gaze_decoder.onnx";
  const auto size = fs::file_size(f);
  std::ofstream(f, std::ios::binary) << std::string(size, 'z');
  ExpectError(LoadBundle(dir2), StatusCode::kFailedPrecondition, "sha256");
  EXPECT_TRUE(LoadBundle(dir2, /*check_hashes=*/false).ok());
}

}  // namespace
}  // namespace egom2p
