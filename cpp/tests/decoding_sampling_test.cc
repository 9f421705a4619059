// Known answers of the token-choice numerics: portable exp, softmax, guidance, top-k, top-p,
// argmax and sampling with the portable RNG.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "egom2p/decoding.h"

namespace egom2p {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(PortableExp, CloseToStdExpAndExactAtTheEnds) {
  EXPECT_EQ(PortableExp(0.0), 1.0);
  EXPECT_EQ(PortableExp(-kInf), 0.0);
  EXPECT_EQ(PortableExp(-701.0), 0.0);
  for (double x = -700.0; x <= 0.0; x += 0.0137) {
    const double want = std::exp(x);
    EXPECT_NEAR(PortableExp(x), want, 4e-16 * want) << x;
  }
}

TEST(SoftmaxRows, KnownAnswer) {
  const float logits[] = {std::log(1.f), std::log(2.f), std::log(3.f), std::log(4.f), -kInf,
                          0.f,           0.f,           0.f,           0.f,           0.f};
  float p[10];
  ASSERT_TRUE(SoftmaxRows(logits, 2, 5, p).ok());
  const float want[] = {0.1f, 0.2f, 0.3f, 0.4f, 0.f, 0.2f, 0.2f, 0.2f, 0.2f, 0.2f};
  for (int i = 0; i < 10; ++i) EXPECT_NEAR(p[i], want[i], 1e-6) << i;
  EXPECT_EQ(p[4], 0.f);
  const float dead[] = {-kInf, -kInf};
  EXPECT_EQ(SoftmaxRows(dead, 1, 2, p).code(), StatusCode::kInvalidArgument);
  const float nan[] = {0.f, std::nanf("")};
  EXPECT_EQ(SoftmaxRows(nan, 1, 2, p).code(), StatusCode::kInvalidArgument);
}

TEST(GuideLogits, IsUncondPlusScaledDifference) {
  const float cond[] = {1.f, 2.f}, uncond[] = {0.f, 4.f};
  float out[2];
  GuideLogits(cond, uncond, 2, 2.0, out);
  EXPECT_EQ(out[0], 2.f);
  EXPECT_EQ(out[1], 0.f);
  GuideLogits(cond, nullptr, 2, 2.0, out);
  EXPECT_EQ(out[1], 2.f);
}

TEST(TopK, KeepsTheLargestWithTies) {
  EXPECT_EQ(TopKCount(0, 10).value(), 0);
  EXPECT_EQ(TopKCount(0.25, 10).value(), 2);
  EXPECT_EQ(TopKCount(0.01, 10).value(), 1);
  EXPECT_EQ(TopKCount(3, 10).value(), 3);
  EXPECT_EQ(TopKCount(30, 10).value(), 10);
  EXPECT_FALSE(TopKCount(2.5, 10).ok());
  float x[] = {1.f, 5.f, 3.f, 5.f, 0.f};
  ASSERT_TRUE(TopKFilter(x, 1, 5, 2).ok());
  EXPECT_EQ(x[0], -kInf);
  EXPECT_EQ(x[1], 5.f);
  EXPECT_EQ(x[2], -kInf);
  EXPECT_EQ(x[3], 5.f);
  float y[] = {1.f, 5.f, 3.f, 4.f, 0.f};
  ASSERT_TRUE(TopKFilter(y, 1, 5, 3).ok());
  EXPECT_EQ(y[0], -kInf);
  EXPECT_EQ(y[2], 3.f);
}

int Kept(double top_p) {
  float x[] = {std::log(0.3f), std::log(0.05f), std::log(0.5f), std::log(0.15f)};
  EXPECT_TRUE(TopPFilter(x, 1, 4, top_p).ok());
  int kept = 0;
  for (float v : x) kept += v > -kInf;
  return kept;
}

TEST(TopP, KeepsTheSmallestPrefixThatExceedsP) {
  // Sorted probabilities 0.5, 0.3, 0.15, 0.05: cumulative 0.5, 0.8, 0.95, 1.
  EXPECT_EQ(Kept(0.4), 1);
  EXPECT_EQ(Kept(0.6), 2);
  EXPECT_EQ(Kept(0.85), 3);
  EXPECT_EQ(Kept(0.99), 4);
  EXPECT_EQ(Kept(0.0), 4);  // off
  float x[] = {0.f, 1.f};
  EXPECT_EQ(TopPFilter(x, 1, 2, 1.5).code(), StatusCode::kInvalidArgument);
}

TEST(ChooseTokens, ArgmaxTakesTheFirstMaximum) {
  const float x[] = {1.f, 3.f, 3.f, 0.f, 2.f, -1.f, 2.f, 0.f};
  int64_t tok[2];
  float prob[2];
  ASSERT_TRUE(ChooseTokens(x, 2, 4, 0.0, 0, 0, nullptr, tok, prob).ok());
  EXPECT_EQ(tok[0], 1);
  EXPECT_EQ(tok[1], 0);
  EXPECT_NEAR(prob[1], std::exp(2.f) / (std::exp(2.f) + std::exp(-1.f) + std::exp(2.f) + 1.f),
              1e-6);
}

TEST(ChooseTokens, SamplesFollowTheDistribution) {
  // Probabilities 0.1, 0.2, 0.3, 0.4 at temperature 1: frequencies over many draws.
  const int rows = 4000;
  std::vector<float> x(rows * 4);
  for (int r = 0; r < rows; ++r) {
    for (int j = 0; j < 4; ++j) x[r * 4 + j] = std::log(0.1f * (j + 1));
  }
  std::vector<int64_t> tok(rows);
  std::vector<float> prob(rows);
  PortableRng rng(42);
  rng.BeginStep(0);
  ASSERT_TRUE(ChooseTokens(x.data(), rows, 4, 1.0, 0, 0, &rng, tok.data(), prob.data()).ok());
  EXPECT_EQ(rng.draws(), static_cast<uint64_t>(rows));  // one draw per row
  int counts[4] = {0, 0, 0, 0};
  for (int64_t t : tok) ++counts[t];
  for (int j = 0; j < 4; ++j) EXPECT_NEAR(counts[j] / double(rows), 0.1 * (j + 1), 0.025) << j;
  for (int r = 0; r < rows; ++r) EXPECT_NEAR(prob[r], 0.1f * (tok[r] + 1), 1e-6);
  // A one-hot distribution (top_p keeps only the mode) always gives the mode.
  ASSERT_TRUE(ChooseTokens(x.data(), rows, 4, 1.0, 0, 0.3, &rng, tok.data(), prob.data()).ok());
  for (int r = 0; r < rows; ++r) ASSERT_EQ(tok[r], 3);
}

TEST(ChooseTokens, RefusesBadInput) {
  const float x[] = {0.f, 1.f};
  int64_t tok[1];
  float prob[1];
  EXPECT_EQ(ChooseTokens(x, 1, 2, 1.0, 0, 0, nullptr, tok, prob).code(),
            StatusCode::kInvalidArgument);  // sampling needs an rng
  PortableRng rng(0);
  EXPECT_EQ(ChooseTokens(x, 1, 2, 1.0, 0, 0, &rng, tok, prob).code(),
            StatusCode::kFailedPrecondition);  // outside a step
  EXPECT_EQ(ChooseTokens(x, 1, 2, -1.0, 0, 0, &rng, tok, prob).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace egom2p
