// Reading .safetensors files (8-byte little-endian header length, a JSON header, then the
// tensor bytes) into named host tensors. Supported dtypes: F32, F16, I64, I32, U8, BOOL.
//
// Basic usage:
//   auto file = egom2p::LoadSafetensors("weights.safetensors");
//   if (!file.ok()) { std::cerr << file.status().ToString(); return 1; }
//   for (const egom2p::Tensor& t : file.value().tensors) { /* t.name, t.dtype, t.shape */ }
#pragma once

#include <map>
#include <string>
#include <vector>

#include "egom2p/status.h"
#include "egom2p/tensor.h"

namespace egom2p {

struct SafetensorsFile {
  std::vector<Tensor> tensors;                  // in the order of their data in the file
  std::map<std::string, std::string> metadata;  // the optional "__metadata__" entry

  const Tensor* Find(const std::string& name) const;  // nullptr when absent
};

// Validates the whole layout before reading data: the header length against the file size, the
// JSON (an object of {dtype, shape, data_offsets} entries and string metadata), each dtype,
// shape and byte count, and that the tensors tile the data section exactly (no gaps, no
// overlap, no trailing bytes). Errors name the file and the tensor: NotFound for a missing
// file, FailedPrecondition for a truncated or corrupt one, Unavailable for an unsupported dtype.
Result<SafetensorsFile> LoadSafetensors(const std::string& path);

}  // namespace egom2p
