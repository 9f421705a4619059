// Stream options resolved against a manifest, and the decoding plans of the three modes
// (official: targets in turn with growing conditioning; joint: shared steps; single_pass: one).
#include <gtest/gtest.h>

#include "egom2p/bundle.h"
#include "egom2p/decoding.h"
#include "egom2p/stream_config.h"
#include "test_bundle_json.h"

namespace egom2p {
namespace {

BundleManifest TestManifest() {
  Result<BundleManifest> m =
      ParseBundleManifest(testing_bundle::Manifest().dump(), "test/bundle.json");
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.value();
}

std::vector<PlanStep> Plan(const StreamOptions& o, ResolvedDecoding* resolved = nullptr) {
  Result<ResolvedDecoding> d = ResolveDecoding(TestManifest(), o);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  if (resolved) *resolved = d.value();
  Result<std::vector<PlanStep>> p = BuildDecodingPlan(d.value(), {"tok_rgb"});
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.value();
}

TEST(ResolveDecoding, AppliesDefaultsAndOverrides) {
  ResolvedDecoding d;
  StreamOptions o;
  Plan(o, &d);
  EXPECT_EQ(d.mode, "official");
  ASSERT_EQ(d.targets.size(), 2u);
  EXPECT_EQ(d.targets[0].name, "tok_gaze");
  EXPECT_EQ(d.targets[0].modality_index, 1);
  EXPECT_EQ(d.targets[0].steps, 5);
  EXPECT_EQ(d.targets[1].steps, 3);
  EXPECT_EQ(d.targets[1].decoder_stage, "cam_decoder");
  EXPECT_DOUBLE_EQ(d.targets[1].temperature, 0.01);
  o.targets = {"tok_cam", "gaze"};
  o.steps = 4;
  o.steps_per_target = {{"gaze", 2}};
  o.temperature = 0.5;
  o.top_p = 0.0;
  o.mode = "joint";
  Plan(o, &d);
  EXPECT_EQ(d.mode, "joint");
  EXPECT_EQ(d.targets[0].name, "tok_cam");
  EXPECT_EQ(d.targets[0].steps, 4);
  EXPECT_EQ(d.targets[1].steps, 2);
  EXPECT_DOUBLE_EQ(d.targets[1].temperature, 0.5);
  EXPECT_DOUBLE_EQ(d.targets[1].top_p, 0.0);
}

TEST(ResolveDecoding, RefusesBadOptions) {
  const BundleManifest m = TestManifest();
  auto refused = [&](StreamOptions o, const std::string& want) {
    Result<ResolvedDecoding> d = ResolveDecoding(m, o);
    ASSERT_FALSE(d.ok()) << want;
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(d.status().message().find(want), std::string::npos) << d.status().message();
  };
  StreamOptions o;
  o.targets = {"rgb"};
  refused(o, "target 'rgb' is not one this bundle decodes; choose among ['cam', 'gaze']");
  o.targets = {"gaze", "tok_gaze"};
  refused(o, "twice");
  o = StreamOptions();
  o.targets = {};
  refused(o, "non-empty");
  o = StreamOptions();
  o.mode = "fast";
  refused(o, "mode must be one of");
  o = StreamOptions();
  o.top_p = 1.5;
  refused(o, "top_p");
  o = StreamOptions();
  o.temperature = -1;
  refused(o, "temperature");
  o = StreamOptions();
  o.hop_frames = 0;
  refused(o, "hop_frames");
  o = StreamOptions();
  o.targets = {"gaze"};
  o.steps_per_target = {{"cam", 2}};
  refused(o, "not among the targets");
}

TEST(DecodingPlan, OfficialRunsTargetsInTurnWithGrowingConditioning) {
  std::vector<PlanStep> plan = Plan(StreamOptions());
  ASSERT_EQ(plan.size(), 8u);  // gaze 5 steps, then cam 3
  for (size_t s = 0; s < 8; ++s) {
    ASSERT_EQ(plan[s].entries.size(), 1u);
    EXPECT_TRUE(plan[s].guided());
    EXPECT_DOUBLE_EQ(plan[s].guidance_scale, 2.0);
    EXPECT_DOUBLE_EQ(plan[s].entries[0].temperature, 0.01);
  }
  EXPECT_EQ(plan[0].entries[0].target, 0);
  EXPECT_EQ(plan[0].entries[0].num_tokens, 6);
  EXPECT_EQ(plan[0].emptied, (std::vector<std::string>{"tok_rgb"}));
  EXPECT_EQ(plan[5].entries[0].target, 1);
  EXPECT_EQ(plan[5].entries[0].num_tokens, 10);
  EXPECT_EQ(plan[5].emptied, (std::vector<std::string>{"tok_rgb", "tok_gaze"}));
}

TEST(DecodingPlan, JointSharesStepsAndSinglePassHasOne) {
  StreamOptions o;
  o.mode = "joint";
  std::vector<PlanStep> plan = Plan(o);
  ASSERT_EQ(plan.size(), 5u);
  EXPECT_EQ(plan[0].entries.size(), 2u);  // gaze and cam
  EXPECT_EQ(plan[2].entries.size(), 2u);
  EXPECT_EQ(plan[3].entries.size(), 1u);  // cam finished after 3 steps
  EXPECT_EQ(plan[0].entries[1].num_tokens, 10);
  EXPECT_EQ(plan[4].emptied, (std::vector<std::string>{"tok_rgb"}));
  o.mode = "single_pass";
  o.guidance_scale = 1.0;
  plan = Plan(o);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].entries.size(), 2u);
  EXPECT_EQ(plan[0].entries[0].num_tokens, 30);
  EXPECT_FALSE(plan[0].guided());  // scale 1: no unconditional pass
}

TEST(DecodingPlan, WithoutTheConditionPresentNothingIsGuided) {
  Result<ResolvedDecoding> d = ResolveDecoding(TestManifest(), StreamOptions());
  ASSERT_TRUE(d.ok());
  d.value().targets.resize(1);
  Result<std::vector<PlanStep>> plan = BuildDecodingPlan(d.value(), {});
  ASSERT_TRUE(plan.ok());
  for (const PlanStep& s : plan.value()) EXPECT_FALSE(s.guided());
  d.value().mode = "other";
  EXPECT_EQ(BuildDecodingPlan(d.value(), {}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace egom2p
