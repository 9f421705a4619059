// Tensor: an owning, contiguous, row-major host buffer with a dtype and a shape, plus the
// description of an engine's input or output (TensorInfo).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace egom2p {

enum class DType { kFloat32, kFloat16, kInt64, kInt32, kUInt8, kBool, kUnknown };

const char* DTypeName(DType dtype);
size_t DTypeSize(DType dtype);

// Description of one engine input or output. Dynamic dimensions are -1 in `shape`, and their
// symbolic names (empty for static dimensions) are in `dim_names`.
struct TensorInfo {
  std::string name;
  DType dtype = DType::kUnknown;
  std::vector<int64_t> shape;
  std::vector<std::string> dim_names;
  std::string ShapeString() const;  // e.g. "[batch, 30, 4]"
};

// Contiguous row-major tensor on the host. `data` holds exactly NumElements() * DTypeSize bytes.
struct Tensor {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;

  int64_t NumElements() const;
  size_t NumBytes() const { return static_cast<size_t>(NumElements()) * DTypeSize(dtype); }

  template <typename T>
  T* Data() {
    return reinterpret_cast<T*>(data.data());
  }
  template <typename T>
  const T* Data() const {
    return reinterpret_cast<const T*>(data.data());
  }

  // A zero-filled tensor of the given dtype and shape.
  static Tensor Zeros(std::string name, DType dtype, std::vector<int64_t> shape);
};

std::string ShapeToString(const std::vector<int64_t>& shape);

}  // namespace egom2p
