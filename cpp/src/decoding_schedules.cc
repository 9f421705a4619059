// Token schedules (how many tokens each step decodes) and temperature schedules; twins of
// python/egom2p_edge/pipeline/plan.py (the same float64 operations in the same order).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>

#include "egom2p/decoding.h"

namespace egom2p {
namespace {

constexpr double kPi = 3.141592653589793;  // Python's math.pi

Status CheckCounts(int num_tokens, int num_steps) {
  if (num_tokens < 1 || num_steps < 1) {
    return Status(StatusCode::kInvalidArgument,
                  "token schedule: num_tokens and num_steps must be >= 1, got " +
                      std::to_string(num_tokens) + " and " + std::to_string(num_steps));
  }
  return Status::Ok();
}

// Parses a whole string as a double; false when anything is left over.
bool ParseDouble(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(*out);
}

}  // namespace

Result<std::vector<int>> LinearTokenSchedule(int num_tokens, int num_steps) {
  if (Status s = CheckCounts(num_tokens, num_steps); !s.ok()) return s;
  // numpy's linspace(0, N, n + 1) as int: i * (N / n) truncated, the last exactly N.
  const double step = static_cast<double>(num_tokens) / num_steps;
  std::vector<int64_t> edges;
  for (int i = 0; i < num_steps; ++i) {
    edges.push_back(static_cast<int64_t>(static_cast<double>(i) * step));
  }
  edges.push_back(num_tokens);
  std::vector<int> counts;
  for (int i = 0; i < num_steps; ++i) counts.push_back(static_cast<int>(edges[i + 1] - edges[i]));
  std::sort(counts.begin(), counts.end(), std::greater<int>());
  while (!counts.empty() && counts.back() <= 0) counts.pop_back();
  return counts;
}

Result<std::vector<int>> CosineTokenSchedule(int num_tokens, int num_steps) {
  if (Status s = CheckCounts(num_tokens, num_steps); !s.ok()) return s;
  std::vector<int> counts;
  int prev = num_tokens;
  for (int i = 0; i < num_steps; ++i) {
    int left = 0;
    if (i != num_steps - 1) {
      const double angle = kPi / 2 * static_cast<double>(i + 1) / static_cast<double>(num_steps);
      left = static_cast<int>(std::floor(static_cast<double>(num_tokens) * std::cos(angle)));
    }
    if (prev - left > 0) counts.push_back(prev - left);
    prev = left;
  }
  return counts;
}

Result<std::vector<int>> TokenSchedule(const std::string& kind, int num_tokens, int num_steps) {
  if (kind == "linear") return LinearTokenSchedule(num_tokens, num_steps);
  if (kind == "cosine") return CosineTokenSchedule(num_tokens, num_steps);
  return Status(StatusCode::kInvalidArgument,
                "unknown token schedule '" + kind + "'; choose linear or cosine");
}

Result<std::vector<double>> TemperatureSchedule(const std::string& kind, double temperature,
                                                int num_steps) {
  if (!(std::isfinite(temperature) && temperature >= 0) || num_steps < 1) {
    return Status(StatusCode::kInvalidArgument,
                  "temperature schedule: temperature must be finite and >= 0 and steps >= 1, "
                  "got " +
                      std::to_string(temperature) + " and " + std::to_string(num_steps));
  }
  std::vector<double> out;
  if (kind == "constant") return std::vector<double>(num_steps, temperature);
  if (kind == "linear") {
    if (num_steps == 1) return std::vector<double>{temperature};
    for (int i = 0; i < num_steps; ++i) {
      out.push_back(temperature * static_cast<double>(num_steps - 1 - i) /
                    static_cast<double>(num_steps - 1));
    }
    return out;
  }
  double t_min = -1, power = -1;
  if (kind.rfind("onex:", 0) == 0) {
    const std::string rest = kind.substr(5);
    const size_t colon = rest.find(':');
    if (colon != std::string::npos && rest.find(':', colon + 1) == std::string::npos &&
        ParseDouble(rest.substr(0, colon), &t_min) && ParseDouble(rest.substr(colon + 1), &power) &&
        t_min >= 0 && t_min <= temperature && power >= 0) {
      for (int i = 0; i < num_steps; ++i) {
        out.push_back(t_min + (temperature - t_min) * std::pow(static_cast<double>(i + 1), -power));
      }
      return out;
    }
  }
  return Status(StatusCode::kInvalidArgument,
                "temperature schedule '" + kind +
                    "' is not constant, linear or onex:MIN:POWER (0 <= MIN <= T, POWER >= 0)");
}

}  // namespace egom2p
