// Choosing tokens from guided logits: portable exp and softmax, guidance, top-k, top-p,
// temperature, argmax or a portable-RNG draw. Twin of python/egom2p_edge/pipeline/numerics.py:
// the same IEEE float32/float64 operations in the same order (this library is compiled with
// -ffp-contract=off, so nothing is fused), hence bit-identical probabilities and samples.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "egom2p/decoding.h"

namespace egom2p {
namespace {

constexpr double kExpMin = -700.0;
constexpr double kInvLn2 = 1.4426950408889634;
constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;
// 1 / n! for n = 13 .. 0 (Horner order), written as the same divisions as numerics.py.
const double kExpCoeffs[] = {1.0 / 6227020800.0,
                             1.0 / 479001600.0,
                             1.0 / 39916800.0,
                             1.0 / 3628800.0,
                             1.0 / 362880.0,
                             1.0 / 40320.0,
                             1.0 / 5040.0,
                             1.0 / 720.0,
                             1.0 / 120.0,
                             1.0 / 24.0,
                             1.0 / 6.0,
                             1.0 / 2.0,
                             1.0,
                             1.0};
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

Status CheckShape(const char* what, const void* data, int64_t rows, int64_t vocab) {
  if (rows < 0 || vocab < 1 || (rows > 0 && data == nullptr)) {
    return Status(StatusCode::kInvalidArgument, std::string(what) +
                                                    ": logits must be (rows, vocab) with vocab "
                                                    ">= 1, got (" +
                                                    std::to_string(rows) + ", " +
                                                    std::to_string(vocab) + ")");
  }
  return Status::Ok();
}

// e_j = PortableExp(double(x_j) - double(shift)) for one row; false for NaN / +inf / -inf shift.
bool ExpShifted(const float* x, int64_t vocab, float shift, std::vector<double>* e) {
  if (std::isinf(shift) && shift < 0) return false;
  e->resize(static_cast<size_t>(vocab));
  for (int64_t j = 0; j < vocab; ++j) {
    if (std::isnan(x[j]) || (std::isinf(x[j]) && x[j] > 0)) return false;
    (*e)[j] = PortableExp(static_cast<double>(x[j]) - static_cast<double>(shift));
  }
  return true;
}

Status BadRow(const char* what, int64_t row) {
  return Status(StatusCode::kInvalidArgument,
                std::string(what) + ": logits row " + std::to_string(row) +
                    " holds NaN or +inf, or is entirely -inf: nothing can be chosen");
}

}  // namespace

double PortableExp(double x) {
  if (!(x >= kExpMin)) return 0.0;
  const double k = std::nearbyint(x * kInvLn2);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;
  double p = kExpCoeffs[0];
  for (size_t i = 1; i < sizeof(kExpCoeffs) / sizeof(kExpCoeffs[0]); ++i) {
    p = p * r + kExpCoeffs[i];
  }
  return std::ldexp(p, static_cast<int>(k));
}

Status SoftmaxRows(const float* logits, int64_t rows, int64_t vocab, float* probs) {
  if (Status s = CheckShape("SoftmaxRows", logits, rows, vocab); !s.ok()) return s;
  std::vector<double> e;
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = logits + r * vocab;
    float m = x[0];
    for (int64_t j = 1; j < vocab; ++j) m = std::max(m, x[j]);
    if (!ExpShifted(x, vocab, m, &e)) return BadRow("SoftmaxRows", r);
    double s = 0.0;
    for (int64_t j = 0; j < vocab; ++j) s += e[j];  // left to right
    for (int64_t j = 0; j < vocab; ++j) probs[r * vocab + j] = static_cast<float>(e[j] / s);
  }
  return Status::Ok();
}

void GuideLogits(const float* cond, const float* uncond, int64_t count, double scale, float* out) {
  const float s = static_cast<float>(scale);
  for (int64_t i = 0; i < count; ++i) {
    out[i] = uncond == nullptr ? cond[i] : uncond[i] + (cond[i] - uncond[i]) * s;
  }
}

Result<int64_t> TopKCount(double top_k, int64_t vocab) {
  if (top_k == 0) return int64_t{0};
  if (top_k > 0 && top_k < 1) {
    return std::max<int64_t>(static_cast<int64_t>(top_k * static_cast<double>(vocab)), 1);
  }
  if (top_k >= 1 && std::floor(top_k) == top_k && std::isfinite(top_k)) {
    return top_k >= static_cast<double>(vocab) ? vocab : static_cast<int64_t>(top_k);
  }
  return Status(
      StatusCode::kInvalidArgument,
      "top_k must be 0, an int >= 1 or a fraction in (0, 1), got " + std::to_string(top_k));
}

Status TopKFilter(float* logits, int64_t rows, int64_t vocab, double top_k) {
  if (Status s = CheckShape("TopKFilter", logits, rows, vocab); !s.ok()) return s;
  Result<int64_t> k = TopKCount(top_k, vocab);
  if (!k.ok()) return k.status();
  if (k.value() == 0) return Status::Ok();
  std::vector<float> sorted;
  for (int64_t r = 0; r < rows; ++r) {
    float* x = logits + r * vocab;
    sorted.assign(x, x + vocab);
    std::nth_element(sorted.begin(), sorted.begin() + (k.value() - 1), sorted.end(),
                     std::greater<float>());
    const float kth = sorted[k.value() - 1];
    for (int64_t j = 0; j < vocab; ++j) {
      if (x[j] < kth) x[j] = kNegInf;
    }
  }
  return Status::Ok();
}

Status TopPFilter(float* logits, int64_t rows, int64_t vocab, double top_p) {
  if (Status s = CheckShape("TopPFilter", logits, rows, vocab); !s.ok()) return s;
  if (top_p <= 0) return Status::Ok();
  if (top_p > 1 || std::isnan(top_p)) {
    return Status(StatusCode::kInvalidArgument,
                  "top_p must be in [0, 1], got " + std::to_string(top_p));
  }
  std::vector<int64_t> order(static_cast<size_t>(vocab));
  std::vector<float> sorted(static_cast<size_t>(vocab));
  std::vector<double> e;
  for (int64_t r = 0; r < rows; ++r) {
    float* x = logits + r * vocab;
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [x](int64_t a, int64_t b) { return x[a] > x[b]; });
    for (int64_t j = 0; j < vocab; ++j) sorted[j] = x[order[j]];
    if (!ExpShifted(sorted.data(), vocab, sorted[0], &e)) return BadRow("TopPFilter", r);
    double total = 0.0;
    for (int64_t j = 0; j < vocab; ++j) total += e[j];
    double cum = e[0] / total;  // cum_{j-1} when entry j is considered
    for (int64_t j = 1; j < vocab; ++j) {
      const bool remove = cum > top_p;
      cum += e[j] / total;
      if (remove) x[order[j]] = kNegInf;
    }
  }
  return Status::Ok();
}

bool IsArgmax(double temperature) { return std::fabs(temperature) <= kArgmaxAtol; }

Status ChooseTokens(const float* logits, int64_t rows, int64_t vocab, double temperature,
                    double top_k, double top_p, PortableRng* rng, int64_t* tokens, float* probs) {
  if (Status s = CheckShape("ChooseTokens", logits, rows, vocab); !s.ok()) return s;
  if (rows > 0 && (tokens == nullptr || probs == nullptr)) {
    return Status(StatusCode::kInvalidArgument, "ChooseTokens: null output buffer");
  }
  if (!(temperature >= 0) && !IsArgmax(temperature)) {
    return Status(StatusCode::kInvalidArgument,
                  "temperature must be >= 0, got " + std::to_string(temperature));
  }
  const size_t n = static_cast<size_t>(rows * vocab);
  std::vector<float> filtered(logits, logits + n);
  if (Status s = TopKFilter(filtered.data(), rows, vocab, top_k); !s.ok()) return s;
  if (Status s = TopPFilter(filtered.data(), rows, vocab, top_p); !s.ok()) return s;
  std::vector<float> p(n);
  if (IsArgmax(temperature)) {
    for (int64_t r = 0; r < rows; ++r) {
      const float* x = logits + r * vocab;
      tokens[r] = std::max_element(x, x + vocab) - x;  // the first maximum
    }
    if (Status s = SoftmaxRows(filtered.data(), rows, vocab, p.data()); !s.ok()) return s;
  } else {
    if (rng == nullptr) return Status(StatusCode::kInvalidArgument, "ChooseTokens: null rng");
    const float t = static_cast<float>(temperature);
    for (float& v : filtered) v = v / t;
    if (Status s = SoftmaxRows(filtered.data(), rows, vocab, p.data()); !s.ok()) return s;
    if (Status s = rng->Sample(p.data(), rows, vocab, tokens); !s.ok()) return s;
  }
  for (int64_t r = 0; r < rows; ++r) probs[r] = p[r * vocab + tokens[r]];
  return Status::Ok();
}

}  // namespace egom2p
