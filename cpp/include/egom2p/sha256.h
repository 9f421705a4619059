// SHA-256 (FIPS 180-4) of a buffer or a file, as raw digest bytes or lowercase hex. Our own
// implementation, so the runtime can check bundle files without a crypto library.
//
// Basic usage:
//   auto digest = egom2p::Sha256FileHex("bundle/encoder.onnx");
//   if (!digest.ok()) return digest.status();
//   if (digest.value() != manifest_sha256) { /* corrupt or wrong file */ }
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "egom2p/status.h"

namespace egom2p {

using Sha256Digest = std::array<uint8_t, 32>;

// Incremental hasher: Update any number of times, then Finish once (Finish resets it).
class Sha256 {
 public:
  Sha256() { Reset(); }
  void Reset();
  void Update(const void* data, size_t size);
  Sha256Digest Finish();

 private:
  void Compress(const uint8_t* block);  // one 64-byte block

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_;
  size_t buffer_size_ = 0;
  uint64_t total_bytes_ = 0;
};

std::string DigestToHex(const Sha256Digest& digest);  // 64 lowercase hex characters
Sha256Digest Sha256Buffer(const void* data, size_t size);
std::string Sha256BufferHex(const void* data, size_t size);
// NotFound for a missing file; FailedPrecondition for a read error; both name the file.
Result<std::string> Sha256FileHex(const std::string& path);

}  // namespace egom2p
