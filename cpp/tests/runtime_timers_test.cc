// Stage timers: nearest-rank percentiles over the last kRecent durations, the ring wrapping,
// and Merge keeping totals exact.
#include <gtest/gtest.h>

#include "egom2p/runtime.h"

namespace egom2p {
namespace {

TEST(StageTimer, NearestRankPercentiles) {
  StageTimer t;
  EXPECT_EQ(t.Percentile(50), 0);
  for (int64_t v : {5, 1, 4, 2, 3, 6, 7, 8, 9, 10}) t.Add(v);
  EXPECT_EQ(t.count, 10);
  EXPECT_EQ(t.total_us, 55);
  EXPECT_EQ(t.max_us, 10);
  EXPECT_EQ(t.last_us, 10);
  EXPECT_EQ(t.Percentile(50), 5);   // ceil(0.5 * 10) - 1 = index 4
  EXPECT_EQ(t.Percentile(90), 9);   // index 8
  EXPECT_EQ(t.Percentile(99), 10);  // index 9
}

TEST(StageTimer, RingKeepsTheLastDurations) {
  StageTimer t;
  const int64_t n = static_cast<int64_t>(StageTimer::kRecent) + 100;
  for (int64_t i = 0; i < n; ++i) t.Add(i < 100 ? 1000000 : 1);  // the big ones fall out
  EXPECT_EQ(t.count, n);
  EXPECT_EQ(t.recent_us.size(), StageTimer::kRecent);
  EXPECT_EQ(t.Percentile(99), 1);
  EXPECT_EQ(t.max_us, 1000000);
}

TEST(StageTimer, MergeKeepsTotals) {
  StageTimer a, b;
  for (int i = 0; i < 3; ++i) a.Add(10);
  const int64_t n = static_cast<int64_t>(StageTimer::kRecent) + 5;
  for (int64_t i = 0; i < n; ++i) b.Add(2);
  a.Merge(b);
  EXPECT_EQ(a.count, 3 + n);
  EXPECT_EQ(a.total_us, 30 + 2 * n);
  EXPECT_EQ(a.max_us, 10);
  EXPECT_EQ(a.last_us, 2);
  StreamTimings x, y;
  y.steps.resize(2);
  y.steps[1].Add(7);
  x.Merge(y);
  ASSERT_EQ(x.steps.size(), 2u);
  EXPECT_EQ(x.steps[1].total_us, 7);
}

}  // namespace
}  // namespace egom2p
