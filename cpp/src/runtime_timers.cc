// Stage timers: totals, and a ring of the last kRecent durations for p50/p90/p99 (twin of
// python/egom2p_edge/streaming/timings.py: the same nearest-rank rule).
#include <algorithm>
#include <cmath>

#include "egom2p/runtime.h"

namespace egom2p {

void StageTimer::Add(int64_t us) {
  if (recent_us.size() < kRecent) {
    recent_us.push_back(us);
  } else {
    recent_us[ring_next] = us;
  }
  ring_next = (ring_next + 1) % kRecent;
  ++count;
  total_us += us;
  max_us = std::max(max_us, us);
  last_us = us;
}

void StageTimer::Merge(const StageTimer& other) {
  // other's durations, oldest first: the ring starts at ring_next once full.
  const size_t n = other.recent_us.size();
  const size_t first = n < kRecent ? 0 : other.ring_next;
  int64_t recent_total = 0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t us = other.recent_us[(first + i) % n];
    recent_total += us;
    Add(us);
  }
  // Durations older than other's ring still count in the totals.
  count += other.count - static_cast<int64_t>(n);
  total_us += other.total_us - recent_total;
  max_us = std::max(max_us, other.max_us);
}

int64_t StageTimer::Percentile(double q) const {
  if (recent_us.empty()) return 0;
  std::vector<int64_t> s = recent_us;
  std::sort(s.begin(), s.end());
  const int64_t k = static_cast<int64_t>(std::ceil(q / 100.0 * static_cast<double>(s.size()))) - 1;
  return s[static_cast<size_t>(std::clamp<int64_t>(k, 0, static_cast<int64_t>(s.size()) - 1))];
}

void StreamTimings::Merge(const StreamTimings& other) {
  preprocess.Merge(other.preprocess);
  tokenize.Merge(other.tokenize);
  encode.Merge(other.encode);
  decode.Merge(other.decode);
  sample.Merge(other.sample);
  detokenize.Merge(other.detokenize);
  window.Merge(other.window);
  if (steps.size() < other.steps.size()) steps.resize(other.steps.size());
  for (size_t i = 0; i < other.steps.size(); ++i) steps[i].Merge(other.steps[i]);
  latency.Merge(other.latency);
}

}  // namespace egom2p
