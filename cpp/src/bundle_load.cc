// Reading a bundle folder: the manifest file, every listed file's size and sha256, and the match
// between each opened engine and its stage description (the Python twin:
// egom2p_edge.bundle.load).
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include "egom2p/bundle.h"
#include "egom2p/bundle_names.h"
#include "egom2p/sha256.h"

namespace egom2p {
namespace {

namespace fs = std::filesystem;
namespace bn = bundle_names;

std::string DimsString(const std::vector<int64_t>& shape, const std::vector<std::string>& names) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] >= 0 ? std::to_string(shape[i])
                       : (i < names.size() && !names[i].empty() ? names[i] : "?");
  }
  return s + "]";
}

Status CheckTensor(const TensorInfo& got, const TensorSpec& want, const std::string& kind,
                   const std::string& onnx_path, const std::string& field) {
  if (got.name != want.name) {
    return Status(StatusCode::kFailedPrecondition,
                  onnx_path + ": " + kind + " '" + got.name + "' is not '" + want.name +
                      "' as bundle.json field '" + field + "' says; re-export the bundle");
  }
  if (got.dtype != want.dtype) {
    return Status(StatusCode::kFailedPrecondition,
                  onnx_path + ": " + kind + " '" + want.name + "' has dtype " +
                      DTypeName(got.dtype) + ", but bundle.json field '" + field + "' says " +
                      DTypeName(want.dtype) + "; the manifest does not describe this graph");
  }
  bool same = got.shape.size() == want.shape.size();
  for (size_t i = 0; same && i < got.shape.size(); ++i) {
    if (want.shape[i] >= 0) {
      same = got.shape[i] == want.shape[i];
    } else {
      same = got.shape[i] < 0 && i < got.dim_names.size() && got.dim_names[i] == want.dim_names[i];
    }
  }
  if (!same) {
    return Status(StatusCode::kFailedPrecondition,
                  onnx_path + ": " + kind + " '" + want.name + "' has shape " +
                      DimsString(got.shape, got.dim_names) + ", but bundle.json field '" + field +
                      "' says " + DimsString(want.shape, want.dim_names) +
                      "; the manifest does not describe this graph");
  }
  return Status::Ok();
}

}  // namespace

Result<BundleManifest> ReadBundleManifest(const std::string& bundle_dir) {
  std::error_code ec;
  if (!fs::is_directory(bundle_dir, ec)) {
    return Status(StatusCode::kNotFound,
                  "bundle folder " + bundle_dir + " does not exist (make one with egom2p export)");
  }
  const std::string path = bundle_dir + "/" + bn::kManifestFile;
  std::ifstream in(path, std::ios::binary);
  if (!fs::is_regular_file(path, ec) || !in.good()) {
    return Status(StatusCode::kNotFound, path + " is missing: a bundle folder holds " +
                                             bn::kManifestFile + ", one ONNX file per stage and " +
                                             bn::kGoldensFile + " (make one with egom2p export)");
  }
  std::ostringstream text;
  text << in.rdbuf();
  Result<BundleManifest> m = ParseBundleManifest(text.str(), path);
  if (m.ok()) m.value().root = bundle_dir;
  return m;
}

Status CheckBundleFiles(const BundleManifest& manifest, bool check_hashes) {
  const std::string where_manifest = manifest.root + "/" + bn::kManifestFile;
  for (size_t i = 0; i < manifest.files.size(); ++i) {
    const FileEntry& e = manifest.files[i];
    const std::string path = manifest.root + "/" + e.name;
    const std::string where = where_manifest + ": field 'files[" + std::to_string(i) + "]'";
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      // FailedPrecondition, not NotFound: the bundle exists but is incomplete (as in Python).
      return Status(StatusCode::kFailedPrecondition,
                    path + " is missing (" + where + " lists it); the bundle is incomplete");
    }
    const auto size = static_cast<int64_t>(fs::file_size(path, ec));
    if (ec || size != e.bytes) {
      return Status(StatusCode::kFailedPrecondition,
                    path + " has " + std::to_string(size) + " bytes but " + where + ".bytes says " +
                        std::to_string(e.bytes) +
                        "; the file was altered or truncated: re-export the bundle");
    }
    if (check_hashes) {
      Result<std::string> digest = Sha256FileHex(path);
      if (!digest.ok()) return digest.status();
      if (digest.value() != e.sha256) {
        return Status(StatusCode::kFailedPrecondition,
                      path + " has sha256 " + digest.value() + " but " + where + ".sha256 says " +
                          e.sha256 + "; the file was altered: re-export the bundle");
      }
    }
  }
  return Status::Ok();
}

Result<BundleManifest> LoadBundle(const std::string& bundle_dir, bool check_hashes) {
  Result<BundleManifest> m = ReadBundleManifest(bundle_dir);
  if (!m.ok()) return m;
  if (Status s = CheckBundleFiles(m.value(), check_hashes); !s.ok()) return s;
  return m;
}

Status CheckEngineMatchesStage(const Engine& engine, const StageSpec& stage) {
  const std::string& path = engine.path();
  for (const auto& [kind, got, want] :
       {std::make_tuple(std::string("inputs"), &engine.inputs(), &stage.inputs),
        std::make_tuple(std::string("outputs"), &engine.outputs(), &stage.outputs)}) {
    if (got->size() != want->size()) {
      return Status(StatusCode::kFailedPrecondition,
                    path + ": the graph has " + std::to_string(got->size()) + " " + kind +
                        " but bundle.json field 'stages." + stage.name + "." + kind + "' lists " +
                        std::to_string(want->size()));
    }
    for (size_t i = 0; i < got->size(); ++i) {
      const std::string field = "stages." + stage.name + "." + kind + "[" + std::to_string(i) + "]";
      if (Status s =
              CheckTensor((*got)[i], (*want)[i], kind.substr(0, kind.size() - 1), path, field);
          !s.ok()) {
        return s;
      }
    }
  }
  return Status::Ok();
}

}  // namespace egom2p
