// The portable decoding RNG (counter-based SplitMix64), bit-identical to egom2p_edge/rng.py.
#include "egom2p/rng.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace egom2p {
namespace {

constexpr uint64_t kM1 = 0xBF58476D1CE4E5B9ull;
constexpr uint64_t kM2 = 0x94D049BB133111EBull;

Status NotInStep() {
  return Status(StatusCode::kFailedPrecondition,
                "PortableRng: call BeginStep(step) before drawing");
}

}  // namespace

uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * kM1;
  z = (z ^ (z >> 27)) * kM2;
  return z ^ (z >> 31);
}

uint64_t StepKey(uint64_t seed, uint64_t step) { return Mix64(seed + kSplitMixGamma * (step + 1)); }

void PortableRng::BeginStep(uint64_t step) {
  key_ = StepKey(seed_, step);
  count_ = 0;
  in_step_ = true;
}

Status PortableRng::NextU64(size_t n, uint64_t* out) {
  if (!in_step_) return NotInStep();
  if (n > 0 && out == nullptr) return Status(StatusCode::kInvalidArgument, "PortableRng: null out");
  for (size_t i = 0; i < n; ++i) out[i] = Mix64(key_ + kSplitMixGamma * ++count_);
  return Status::Ok();
}

Status PortableRng::Uniform(size_t n, float* out) {
  if (!in_step_) return NotInStep();
  if (n > 0 && out == nullptr) return Status(StatusCode::kInvalidArgument, "PortableRng: null out");
  for (size_t i = 0; i < n; ++i) {
    const uint64_t x = Mix64(key_ + kSplitMixGamma * ++count_);
    out[i] = static_cast<float>(x >> 40) * 0x1p-24f;  // 24-bit integer * 2^-24: exact
  }
  return Status::Ok();
}

Status PortableRng::Order(const uint8_t* known, size_t n, int64_t* order) {
  if (!in_step_) return NotInStep();
  if (n > 0 && (known == nullptr || order == nullptr)) {
    return Status(StatusCode::kInvalidArgument, "PortableRng::Order: null buffer");
  }
  keys_.resize(n);
  Status s = NextU64(n, keys_.data());
  if (!s.ok()) return s;
  size_t num_unknown = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!known[i]) order[num_unknown++] = static_cast<int64_t>(i);
  }
  std::sort(order, order + num_unknown, [this](int64_t a, int64_t b) {
    return keys_[a] != keys_[b] ? keys_[a] < keys_[b] : a < b;
  });
  size_t k = num_unknown;
  for (size_t i = 0; i < n; ++i) {
    if (known[i]) order[k++] = static_cast<int64_t>(i);
  }
  return Status::Ok();
}

Status PortableRng::Sample(const float* probs, int64_t rows, int64_t vocab, int64_t* tokens) {
  if (!in_step_) return NotInStep();
  if (rows < 0 || vocab < 1) {
    return Status(StatusCode::kInvalidArgument,
                  "PortableRng::Sample: probs must be (R, V) with V >= 1, got (" +
                      std::to_string(rows) + ", " + std::to_string(vocab) + ")");
  }
  if (rows > 0 && (probs == nullptr || tokens == nullptr)) {
    return Status(StatusCode::kInvalidArgument, "PortableRng::Sample: null buffer");
  }
  const size_t total_values = static_cast<size_t>(rows) * static_cast<size_t>(vocab);
  for (size_t i = 0; i < total_values; ++i) {
    if (!std::isfinite(probs[i]) || probs[i] < 0.f) {
      return Status(StatusCode::kInvalidArgument,
                    "PortableRng::Sample: probabilities must be finite and >= 0; row " +
                        std::to_string(i / vocab) + " column " + std::to_string(i % vocab) +
                        " is " + std::to_string(probs[i]));
    }
  }
  const uint64_t first_draw = count_;
  count_ += static_cast<uint64_t>(rows);  // the Python twin draws every row before checking totals
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = probs + r * vocab;
    float total = 0.f;
    for (int64_t j = 0; j < vocab; ++j) total += p[j];  // float32, left to right
    if (!(total > 0.f)) {
      return Status(StatusCode::kInvalidArgument,
                    "PortableRng::Sample: row " + std::to_string(r) + " has no probability mass");
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = probs + r * vocab;
    float total = 0.f;
    for (int64_t j = 0; j < vocab; ++j) total += p[j];
    const uint64_t x = Mix64(key_ + kSplitMixGamma * (first_draw + 1 + static_cast<uint64_t>(r)));
    // u < 2^24 times a float32 is exact in float64, and dividing by 2^24 is exact.
    const double t = static_cast<double>(x >> 40) * static_cast<double>(total) / 16777216.0;
    float cdf = 0.f;
    int64_t token = 0;  // numpy's argmax of an all-false row (only when total overflowed to inf)
    for (int64_t j = 0; j < vocab; ++j) {
      cdf += p[j];  // the same running sums as the total
      if (p[j] > 0.f && static_cast<double>(cdf) > t) {
        token = j;
        break;
      }
    }
    tokens[r] = token;
  }
  return Status::Ok();
}

}  // namespace egom2p
