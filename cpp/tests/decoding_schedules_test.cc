// Known answers of the token and temperature schedules (EGOM2P_SPEC.md 4.1 for linear).
#include <gtest/gtest.h>

#include <numeric>

#include "egom2p/decoding.h"

namespace egom2p {
namespace {

std::vector<int> Tokens(const std::string& kind, int n, int steps) {
  Result<std::vector<int>> r = TokenSchedule(kind, n, steps);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.value();
}

TEST(TokenSchedule, LinearKnownAnswers) {
  EXPECT_EQ(Tokens("linear", 30, 3), (std::vector<int>{10, 10, 10}));
  EXPECT_EQ(Tokens("linear", 30, 5), (std::vector<int>{6, 6, 6, 6, 6}));
  EXPECT_EQ(Tokens("linear", 5120, 3), (std::vector<int>{1707, 1707, 1706}));
  EXPECT_EQ(Tokens("linear", 7, 3), (std::vector<int>{3, 2, 2}));  // edges 0, 2, 4, 7
  EXPECT_EQ(Tokens("linear", 2, 5), (std::vector<int>{1, 1}));     // more steps than tokens
  EXPECT_EQ(Tokens("linear", 30, 1), (std::vector<int>{30}));
}

TEST(TokenSchedule, CosineKnownAnswers) {
  // Unknown after each step: floor(30 cos(pi/6)) = 25, floor(30 cos(pi/3)) = 15, 0.
  EXPECT_EQ(Tokens("cosine", 30, 3), (std::vector<int>{5, 10, 15}));
  EXPECT_EQ(Tokens("cosine", 30, 1), (std::vector<int>{30}));
  for (int steps = 1; steps < 40; ++steps) {
    std::vector<int> c = Tokens("cosine", 30, steps);
    EXPECT_EQ(std::accumulate(c.begin(), c.end(), 0), 30) << steps;
  }
}

TEST(TokenSchedule, RefusesBadArguments) {
  EXPECT_EQ(TokenSchedule("linear", 0, 3).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TokenSchedule("linear", 30, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TokenSchedule("square", 30, 3).status().code(), StatusCode::kInvalidArgument);
}

TEST(TemperatureSchedule, KnownAnswers) {
  EXPECT_EQ(TemperatureSchedule("constant", 0.5, 3).value(), (std::vector<double>{0.5, 0.5, 0.5}));
  EXPECT_EQ(TemperatureSchedule("linear", 0.9, 3).value(), (std::vector<double>{0.9, 0.45, 0.0}));
  EXPECT_EQ(TemperatureSchedule("linear", 0.9, 1).value(), (std::vector<double>{0.9}));
  std::vector<double> onex = TemperatureSchedule("onex:0.5:1", 1.0, 3).value();
  ASSERT_EQ(onex.size(), 3u);
  EXPECT_DOUBLE_EQ(onex[0], 1.0);
  EXPECT_DOUBLE_EQ(onex[1], 0.75);
  EXPECT_DOUBLE_EQ(onex[2], 0.5 + 0.5 / 3);
}

TEST(TemperatureSchedule, RefusesBadKinds) {
  for (const char* kind : {"onex:2:1", "onex:0.5", "onex:a:1", "onex:0.5:-1", "cubic"}) {
    EXPECT_EQ(TemperatureSchedule(kind, 1.0, 3).status().code(), StatusCode::kInvalidArgument)
        << kind;
  }
  EXPECT_FALSE(TemperatureSchedule("constant", -1.0, 3).ok());
}

}  // namespace
}  // namespace egom2p
