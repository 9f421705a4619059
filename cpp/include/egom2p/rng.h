// PortableRng: the decoder's random streams (ROAR decoding order and token sampling), bit for
// bit the algorithm specified in python/egom2p_edge/rng.py (counter-based SplitMix64, one
// stream per decoding step; inverse-CDF sampling on float32 probabilities).
//
// Basic usage (one per stream; not thread-safe):
//   egom2p::PortableRng rng(seed);
//   rng.BeginStep(step);
//   egom2p::Status s = rng.Order(known, n, order);          // unknown positions first
//   s = rng.Sample(probs, rows, vocab, tokens);              // one token per row
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "egom2p/status.h"

namespace egom2p {

constexpr uint64_t kSplitMixGamma = 0x9E3779B97F4A7C15ull;

// SplitMix64's output function (arithmetic modulo 2^64).
uint64_t Mix64(uint64_t z);
// The key of a step's stream: Mix64(seed + kSplitMixGamma * (step + 1)).
uint64_t StepKey(uint64_t seed, uint64_t step);

class PortableRng {
 public:
  // A Python seed is reduced modulo 2^64 (seed & (2^64 - 1)): pass that value.
  explicit PortableRng(uint64_t seed = 0) : seed_(seed) {}

  uint64_t seed() const { return seed_; }
  // Starts step `step`'s stream: key = StepKey(seed, step), draw counter c = 0.
  void BeginStep(uint64_t step);
  bool in_step() const { return in_step_; }
  uint64_t draws() const { return count_; }  // draws taken in the current step

  // Draw i of the step (1-based c): Mix64(key + kSplitMixGamma * c). FailedPrecondition before
  // the first BeginStep.
  Status NextU64(size_t n, uint64_t* out);
  // (x >> 40) * 2^-24: floats in [0, 1) with 24 random bits, exact in float32.
  Status Uniform(size_t n, float* out);
  // `known` holds n flags (0/1). Draws n values x_i (one per position, known ones included);
  // writes the unknown positions sorted by (x_i, i), then the known positions ascending.
  Status Order(const uint8_t* known, size_t n, int64_t* order);
  // probs: row-major (rows, vocab) float32, finite and >= 0, each row with a positive float32
  // total. Per row: u = x >> 40; cdf_j the float32 running sum; t = u * total / 2^24 in
  // float64; the token is the smallest j with p_j > 0 and cdf_j > t. Like the Python twin, the
  // values are checked before drawing and a zero total is reported after the rows' draws.
  Status Sample(const float* probs, int64_t rows, int64_t vocab, int64_t* tokens);

 private:
  uint64_t seed_ = 0;
  uint64_t key_ = 0;
  uint64_t count_ = 0;
  bool in_step_ = false;
  std::vector<uint64_t> keys_;  // Order's per-position draws, kept to avoid reallocating
};

}  // namespace egom2p
