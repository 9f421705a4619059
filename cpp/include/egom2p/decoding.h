// Parallel decoding of one window, the parts that are plain code: token and temperature
// schedules, the numerics of choosing tokens (guidance, top-k, top-p, temperature, softmax,
// sampling with the portable RNG) and the decoding plan of the three modes. Bit-identical twins
// of python/egom2p_edge/pipeline/{plan,numerics}.py, whose docstrings specify the algorithms.
//
// Basic usage:
//   auto plan = egom2p::BuildDecodingPlan(resolved, {"tok_rgb"});
//   egom2p::PortableRng rng(seed);
//   rng.BeginStep(0);
//   egom2p::Status s = egom2p::ChooseTokens(logits, rows, vocab, /*temperature=*/0.01,
//                                           /*top_k=*/0, /*top_p=*/0.8, &rng, tokens, probs);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "egom2p/rng.h"
#include "egom2p/status.h"

namespace egom2p {

// ----- schedules -----------------------------------------------------------------------------

// The official linear schedule: diff of (int)(i * N / n) for i < n and N, descending, zeros
// dropped (30 tokens in 3 steps -> 10, 10, 10; 5120 in 3 -> 1707, 1707, 1706).
Result<std::vector<int>> LinearTokenSchedule(int num_tokens, int num_steps);
// MaskGIT cosine: after step i, floor(N cos(pi/2 (i+1)/n)) tokens stay unknown (0 after the
// last); zero steps dropped.
Result<std::vector<int>> CosineTokenSchedule(int num_tokens, int num_steps);
// "linear" or "cosine".
Result<std::vector<int>> TokenSchedule(const std::string& kind, int num_tokens, int num_steps);
// "constant", "linear" (T down to 0 at the last step) or "onex:MIN:POWER"
// (MIN + (T - MIN) (i + 1)^-POWER).
Result<std::vector<double>> TemperatureSchedule(const std::string& kind, double temperature,
                                                int num_steps);

// ----- choosing tokens -----------------------------------------------------------------------

inline constexpr double kArgmaxAtol = 1e-8;  // |T| <= this is argmax (the reference's isclose)

// exp(x) for x <= 0 with IEEE +, -, * only (0 for x < -700 and -inf); see numerics.py.
double PortableExp(double x);
// Row-wise softmax of (rows, vocab) float32: float64 exps against the row maximum, a float64
// left-to-right sum, float32(e / s). InvalidArgument for NaN/+inf or an all -inf row.
Status SoftmaxRows(const float* logits, int64_t rows, int64_t vocab, float* probs);
// out = uncond + (cond - uncond) * float(scale), float32; uncond == nullptr copies cond.
void GuideLogits(const float* cond, const float* uncond, int64_t count, double scale, float* out);
// How many logits top-k keeps: 0 (all) for top_k == 0, max(int(top_k V), 1) for a fraction in
// (0, 1), min(top_k, V) for an integer >= 1; InvalidArgument otherwise.
Result<int64_t> TopKCount(double top_k, int64_t vocab);
// In place on (rows, vocab): entries below the k-th largest become -inf.
Status TopKFilter(float* logits, int64_t rows, int64_t vocab, double top_k);
// In place on (rows, vocab): nucleus filter (top_p 0 = off; see numerics.py).
Status TopPFilter(float* logits, int64_t rows, int64_t vocab, double top_p);
bool IsArgmax(double temperature);
// One token per row of guided logits (rows, vocab) and its probability: argmax for
// |temperature| <= 1e-8, else one rng->Sample draw per row (rows in order) from
// softmax(top_p(top_k(logits)) / float(temperature)). rng must be inside a step.
Status ChooseTokens(const float* logits, int64_t rows, int64_t vocab, double temperature,
                    double top_k, double top_p, PortableRng* rng, int64_t* tokens, float* probs);

// ----- the decoding plan ---------------------------------------------------------------------

// The resolved decoding of one target (the bundle's defaults with a stream's overrides).
struct TargetDecoding {
  std::string name;  // model key, e.g. "tok_gaze"
  int modality_index = 0;
  int num_tokens = 0;
  int64_t vocab_size = 0;
  std::string decoder_stage;  // empty when the bundle has no tokenizer decoder for it
  int steps = 1;
  std::string scheme = "roar";
  std::string schedule = "linear";
  double temperature = 0.0;
  std::string temperature_schedule = "constant";
  double guidance_scale = 1.0;
  double top_p = 0.0;
  double top_k = 0.0;
};

struct ResolvedDecoding {
  std::string mode;                     // "official", "joint" or "single_pass"
  std::vector<TargetDecoding> targets;  // in decoding order
  std::vector<std::string> condition;   // modalities emptied in the unconditional pass
  bool grow_conditioning = true;
  bool reuse_condition = false;  // encode the inputs once per window (joint / single_pass)
};

// One target's share of a step.
struct PlanEntry {
  int target = 0;  // index into ResolvedDecoding::targets
  int num_tokens = 0;
  double temperature = 0.0;
};

// One encoder pass (two when guided) and one decoder batch.
struct PlanStep {
  std::vector<PlanEntry> entries;
  double guidance_scale = 1.0;
  std::vector<std::string> emptied;  // modalities left out of the unconditional pass
  bool guided() const { return guidance_scale != 1.0 && !emptied.empty(); }
};

// The steps of one window; `present` are the input modalities (the condition emptied by
// guidance is the resolved condition among them).
Result<std::vector<PlanStep>> BuildDecodingPlan(const ResolvedDecoding& decoding,
                                                const std::vector<std::string>& present);

}  // namespace egom2p
