// .safetensors reader: header validation first, then one read per tensor into its buffer.
#include "egom2p/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

namespace egom2p {
namespace {

using nlohmann::json;

// Headers larger than this are refused as corrupt (the reference implementation's limit).
constexpr uint64_t kMaxHeaderBytes = 100000000;

struct Entry {
  std::string name;
  DType dtype = DType::kUnknown;
  std::vector<int64_t> shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

Status Corrupt(const std::string& path, const std::string& what) {
  return Status(StatusCode::kFailedPrecondition,
                "safetensors file '" + path + "': " + what +
                    " (the file is truncated or not a .safetensors file; re-create or re-download "
                    "it)");
}

DType ParseDType(const std::string& s) {
  if (s == "F32") return DType::kFloat32;
  if (s == "F16") return DType::kFloat16;
  if (s == "I64") return DType::kInt64;
  if (s == "I32") return DType::kInt32;
  if (s == "U8") return DType::kUInt8;
  if (s == "BOOL") return DType::kBool;
  return DType::kUnknown;
}

// Parses one tensor entry of the header; the byte count is checked against its shape.
Status ParseEntry(const std::string& path, const std::string& name, const json& value,
                  Entry* entry) {
  const std::string where = "tensor '" + name + "'";
  if (!value.is_object()) return Corrupt(path, where + " is not a JSON object");
  auto dtype = value.find("dtype");
  auto shape = value.find("shape");
  auto offsets = value.find("data_offsets");
  if (dtype == value.end() || !dtype->is_string()) {
    return Corrupt(path, where + " has no string \"dtype\"");
  }
  if (shape == value.end() || !shape->is_array()) {
    return Corrupt(path, where + " has no array \"shape\"");
  }
  if (offsets == value.end() || !offsets->is_array() || offsets->size() != 2 ||
      !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned()) {
    return Corrupt(path, where + " needs \"data_offsets\": [begin, end] (non-negative integers)");
  }
  entry->name = name;
  const std::string dtype_name = dtype->get<std::string>();
  entry->dtype = ParseDType(dtype_name);
  if (entry->dtype == DType::kUnknown) {
    return Status(StatusCode::kUnavailable,
                  "safetensors file '" + path + "': " + where + " has dtype " + dtype_name +
                      ", which this runtime does not read (supported: F32, F16, I64, I32, U8, "
                      "BOOL); convert the tensor when writing the file");
  }
  uint64_t elements = 1;
  for (const json& d : *shape) {
    if (!d.is_number_unsigned()) {
      return Corrupt(path, where + " has a shape entry that is not a non-negative integer");
    }
    const uint64_t dim = d.get<uint64_t>();
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
        (dim != 0 && elements > std::numeric_limits<uint64_t>::max() / 16 / dim)) {
      return Corrupt(path, where + " has a shape too large to address");
    }
    elements *= dim;
    entry->shape.push_back(static_cast<int64_t>(dim));
  }
  entry->begin = (*offsets)[0].get<uint64_t>();
  entry->end = (*offsets)[1].get<uint64_t>();
  if (entry->end < entry->begin) {
    return Corrupt(path, where + " has data_offsets [" + std::to_string(entry->begin) + ", " +
                             std::to_string(entry->end) + "] with end before begin");
  }
  const uint64_t expected = elements * DTypeSize(entry->dtype);
  if (entry->end - entry->begin != expected) {
    return Corrupt(path, where + " (" + dtype_name + ", shape " + ShapeToString(entry->shape) +
                             ") needs " + std::to_string(expected) +
                             " bytes but its data_offsets "
                             "span " +
                             std::to_string(entry->end - entry->begin));
  }
  return Status::Ok();
}

Status ParseHeader(const std::string& path, const std::string& text, std::vector<Entry>* entries,
                   std::map<std::string, std::string>* metadata) {
  if (text.empty() || text[0] != '{') return Corrupt(path, "the header does not start with '{'");
  const json header = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) return Corrupt(path, "the header is not valid JSON");
  if (!header.is_object()) return Corrupt(path, "the header is not a JSON object");
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object()) return Corrupt(path, "\"__metadata__\" is not an object");
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        if (!m.value().is_string()) {
          return Corrupt(path, "metadata '" + m.key() + "' is not a string");
        }
        (*metadata)[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    Entry entry;
    Status s = ParseEntry(path, it.key(), it.value(), &entry);
    if (!s.ok()) return s;
    entries->push_back(std::move(entry));
  }
  return Status::Ok();
}

// The tensors must tile [0, data_size) in offset order, as every writer lays them out.
Status CheckLayout(const std::string& path, std::vector<Entry>* entries, uint64_t data_size) {
  std::stable_sort(entries->begin(), entries->end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t cursor = 0;
  for (const Entry& e : *entries) {
    if (e.end > data_size) {
      return Corrupt(path, "tensor '" + e.name + "' ends at data byte " + std::to_string(e.end) +
                               " but the file holds only " + std::to_string(data_size) +
                               " data bytes");
    }
    if (e.begin != cursor) {
      return Corrupt(path, "tensor '" + e.name + "' starts at data byte " +
                               std::to_string(e.begin) + ", expected " + std::to_string(cursor) +
                               (e.begin < cursor ? " (it overlaps the previous tensor)"
                                                 : " (a gap before it)"));
    }
    cursor = e.end;
  }
  if (cursor != data_size) {
    return Corrupt(path, "the tensors cover " + std::to_string(cursor) + " data bytes but the " +
                             "file has " + std::to_string(data_size) + " (trailing bytes)");
  }
  return Status::Ok();
}

Result<SafetensorsFile> Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    const StatusCode code = err == ENOENT ? StatusCode::kNotFound : StatusCode::kFailedPrecondition;
    return Status(code, "safetensors file '" + path + "' cannot be opened: " + std::strerror(err));
  }
  in.seekg(0, std::ios::end);
  const std::streamoff file_size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (file_size < 0) return Corrupt(path, "its size cannot be determined (is it a directory?)");
  if (file_size < 8) {
    return Corrupt(path, "it has " + std::to_string(file_size) +
                             " bytes, fewer than the 8-byte header length");
  }
  uint8_t length_bytes[8];
  in.read(reinterpret_cast<char*>(length_bytes), 8);
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | length_bytes[i];  // LE
  const uint64_t after_length = static_cast<uint64_t>(file_size) - 8;
  if (header_size > kMaxHeaderBytes) {
    return Corrupt(path, "the header length " + std::to_string(header_size) +
                             " exceeds the limit of " + std::to_string(kMaxHeaderBytes));
  }
  if (header_size > after_length) {
    return Corrupt(path, "the header length " + std::to_string(header_size) + " exceeds the " +
                             std::to_string(after_length) + " bytes after it");
  }
  std::string text(header_size, '\0');
  if (!in.read(&text[0], static_cast<std::streamsize>(header_size))) {
    return Corrupt(path, "the header cannot be read");
  }
  SafetensorsFile file;
  std::vector<Entry> entries;
  Status s = ParseHeader(path, text, &entries, &file.metadata);
  if (!s.ok()) return s;
  const uint64_t data_size = after_length - header_size;
  s = CheckLayout(path, &entries, data_size);
  if (!s.ok()) return s;
  const std::streamoff data_start = static_cast<std::streamoff>(8 + header_size);
  file.tensors.reserve(entries.size());
  for (Entry& e : entries) {
    Tensor t;
    t.name = std::move(e.name);
    t.dtype = e.dtype;
    t.shape = std::move(e.shape);
    t.data.resize(static_cast<size_t>(e.end - e.begin));
    in.seekg(data_start + static_cast<std::streamoff>(e.begin));
    if (!t.data.empty() && !in.read(reinterpret_cast<char*>(t.data.data()),
                                    static_cast<std::streamsize>(t.data.size()))) {
      return Corrupt(path, "the data of tensor '" + t.name + "' cannot be read");
    }
    file.tensors.push_back(std::move(t));
  }
  return file;
}

}  // namespace

const Tensor* SafetensorsFile::Find(const std::string& name) const {
  for (const Tensor& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Result<SafetensorsFile> LoadSafetensors(const std::string& path) {
  // The data is little-endian; so are the hosts this runtime targets (x86-64, aarch64).
  const uint16_t probe = 1;
  if (*reinterpret_cast<const uint8_t*>(&probe) != 1) {
    return Status(StatusCode::kUnavailable, "safetensors: big-endian hosts are not supported");
  }
  try {
    return Load(path);
  } catch (const std::exception& e) {  // e.g. bad_alloc: nothing throws across the boundary
    return Status(StatusCode::kInternal,
                  "safetensors file '" + path + "': unexpected error: " + e.what());
  }
}

}  // namespace egom2p
