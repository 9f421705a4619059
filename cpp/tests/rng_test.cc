// Tests of PortableRng: SplitMix64 known answers, the per-step streams, Order and Sample against
// answers derived from the raw draws, and bad inputs.
#include "egom2p/rng.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace egom2p {
namespace {

TEST(PortableRng, SplitMix64KnownAnswers) {
  // The published SplitMix64 outputs for seed 1234567; step k's key is output k + 1.
  const uint64_t expected[5] = {6457827717110365317ull, 3203168211198807973ull,
                                9817491932198370423ull, 4593380528125082431ull,
                                16408922859458223821ull};
  for (uint64_t k = 0; k < 5; ++k) EXPECT_EQ(StepKey(1234567, k), expected[k]) << k;
}

TEST(PortableRng, StepStreamIsSplitMixSeededWithTheKey) {
  PortableRng rng(42);
  rng.BeginStep(3);
  uint64_t x[4];
  ASSERT_TRUE(rng.NextU64(4, x).ok());
  const uint64_t key = StepKey(42, 3);
  for (uint64_t c = 1; c <= 4; ++c) EXPECT_EQ(x[c - 1], Mix64(key + kSplitMixGamma * c));
  EXPECT_EQ(rng.draws(), 4u);
  rng.BeginStep(3);  // restarting a step replays it
  uint64_t again;
  ASSERT_TRUE(rng.NextU64(1, &again).ok());
  EXPECT_EQ(again, x[0]);
}

TEST(PortableRng, UniformUsesTheTop24Bits) {
  PortableRng a(7), b(7);
  a.BeginStep(0);
  b.BeginStep(0);
  std::vector<uint64_t> x(1000);
  std::vector<float> u(1000);
  ASSERT_TRUE(a.NextU64(x.size(), x.data()).ok());
  ASSERT_TRUE(b.Uniform(u.size(), u.data()).ok());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(static_cast<double>(u[i]), std::ldexp(static_cast<double>(x[i] >> 40), -24));
    EXPECT_GE(u[i], 0.f);
    EXPECT_LT(u[i], 1.f);
  }
}

TEST(PortableRng, OrderSortsUnknownByDrawThenAppendsKnown) {
  const uint8_t known[7] = {0, 1, 0, 0, 1, 0, 0};
  PortableRng a(99), b(99);
  a.BeginStep(5);
  b.BeginStep(5);
  uint64_t x[7];
  ASSERT_TRUE(a.NextU64(7, x).ok());
  std::vector<int64_t> unknown = {0, 2, 3, 5, 6};
  std::sort(unknown.begin(), unknown.end(), [&](int64_t i, int64_t j) { return x[i] < x[j]; });
  int64_t order[7];
  ASSERT_TRUE(b.Order(known, 7, order).ok());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(order[i], unknown[i]);
  EXPECT_EQ(order[5], 1);
  EXPECT_EQ(order[6], 4);
  EXPECT_EQ(b.draws(), 7u);  // known positions draw too
}

TEST(PortableRng, SampleOneHotAndZeroEntries) {
  PortableRng rng(1);
  rng.BeginStep(0);
  const float probs[3 * 4] = {0, 0,    1, 0,     //
                              0, 0.5f, 0, 0.5f,  //
                              1, 0,    0, 0};
  for (int trial = 0; trial < 50; ++trial) {
    int64_t tokens[3];
    ASSERT_TRUE(rng.Sample(probs, 3, 4, tokens).ok());
    EXPECT_EQ(tokens[0], 2);
    EXPECT_TRUE(tokens[1] == 1 || tokens[1] == 3);
    EXPECT_EQ(tokens[2], 0);
  }
}

TEST(PortableRng, SampleIsTheInverseCdfOfTheDraw) {
  // Two halves: token 0 iff cdf_0 = 0.5 > u / 2^24, i.e. u < 2^23.
  PortableRng a(2024), b(2024);
  a.BeginStep(1);
  b.BeginStep(1);
  const float probs[2] = {0.5f, 0.5f};
  int zeros = 0;
  for (int i = 0; i < 400; ++i) {
    uint64_t x;
    int64_t token;
    ASSERT_TRUE(a.NextU64(1, &x).ok());
    ASSERT_TRUE(b.Sample(probs, 1, 2, &token).ok());
    EXPECT_EQ(token, (x >> 40) < (1u << 23) ? 0 : 1);
    zeros += token == 0;
  }
  EXPECT_GT(zeros, 150);  // both halves occur
  EXPECT_LT(zeros, 250);
}

TEST(PortableRng, SampleUnnormalisedRowsUseTheirTotal) {
  // Weights (1, 3): token 0 iff 1 > u * 4 / 2^24, i.e. u < 2^22.
  PortableRng a(5), b(5);
  a.BeginStep(0);
  b.BeginStep(0);
  const float probs[2] = {1.f, 3.f};
  for (int i = 0; i < 200; ++i) {
    uint64_t x;
    int64_t token;
    ASSERT_TRUE(a.NextU64(1, &x).ok());
    ASSERT_TRUE(b.Sample(probs, 1, 2, &token).ok());
    EXPECT_EQ(token, (x >> 40) < (1u << 22) ? 0 : 1);
  }
}

TEST(PortableRng, RejectsBadInputs) {
  PortableRng rng(0);
  uint64_t x;
  EXPECT_EQ(rng.NextU64(1, &x).code(), StatusCode::kFailedPrecondition);  // no BeginStep
  rng.BeginStep(0);
  int64_t token;
  const float nan_row[2] = {std::numeric_limits<float>::quiet_NaN(), 1.f};
  const float negative[2] = {-0.1f, 1.f};
  const float zeros[2] = {0.f, 0.f};
  EXPECT_EQ(rng.Sample(nan_row, 1, 2, &token).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(rng.Sample(negative, 1, 2, &token).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(rng.draws(), 0u);  // rejected values draw nothing
  Status s = rng.Sample(zeros, 1, 2, &token);
  EXPECT_NE(s.message().find("no probability mass"), std::string::npos) << s.message();
  EXPECT_EQ(rng.draws(), 1u);  // like the Python twin: drawn before the total check
  EXPECT_FALSE(rng.Sample(zeros, 1, 0, &token).ok());
}

}  // namespace
}  // namespace egom2p
