// The decoding plan of one window in the three modes; twin of
// python/egom2p_edge/pipeline/plan.py (build_plan).
#include <algorithm>

#include "egom2p/decoding.h"

namespace egom2p {

Result<std::vector<PlanStep>> BuildDecodingPlan(const ResolvedDecoding& decoding,
                                                const std::vector<std::string>& present) {
  const std::string& mode = decoding.mode;
  if (mode != "official" && mode != "joint" && mode != "single_pass") {
    return Status(StatusCode::kInvalidArgument,
                  "unknown decoding mode '" + mode + "'; choose official, joint or single_pass");
  }
  if (decoding.targets.empty()) {
    return Status(StatusCode::kInvalidArgument, "decoding plan: no targets to decode");
  }
  std::vector<std::string> cond;
  for (const auto& c : decoding.condition) {
    if (std::find(present.begin(), present.end(), c) != present.end()) cond.push_back(c);
  }
  std::vector<std::vector<PlanEntry>> per_target;
  for (size_t k = 0; k < decoding.targets.size(); ++k) {
    const TargetDecoding& t = decoding.targets[k];
    const int n_steps = mode == "single_pass" ? 1 : t.steps;
    Result<std::vector<int>> counts = TokenSchedule(t.schedule, t.num_tokens, n_steps);
    if (!counts.ok()) return counts.status();
    Result<std::vector<double>> temps = TemperatureSchedule(
        t.temperature_schedule, t.temperature, static_cast<int>(counts.value().size()));
    if (!temps.ok()) return temps.status();
    std::vector<PlanEntry> entries;
    for (size_t i = 0; i < counts.value().size(); ++i) {
      entries.push_back(PlanEntry{static_cast<int>(k), counts.value()[i], temps.value()[i]});
    }
    per_target.push_back(std::move(entries));
  }
  std::vector<PlanStep> steps;
  if (mode == "official") {
    for (size_t k = 0; k < decoding.targets.size(); ++k) {
      std::vector<std::string> emptied = cond;
      if (decoding.grow_conditioning) {
        for (size_t j = 0; j < k; ++j) emptied.push_back(decoding.targets[j].name);
      }
      for (const PlanEntry& e : per_target[k]) {
        steps.push_back(PlanStep{{e}, decoding.targets[k].guidance_scale, emptied});
      }
    }
    return steps;
  }
  size_t n = 0;
  for (const auto& e : per_target) n = std::max(n, e.size());
  for (size_t i = 0; i < n; ++i) {
    PlanStep step{{}, decoding.targets[0].guidance_scale, cond};
    for (const auto& e : per_target) {
      if (i < e.size()) step.entries.push_back(e[i]);
    }
    steps.push_back(std::move(step));
  }
  return steps;
}

}  // namespace egom2p
