// Decoding one window with the backbone engines: twin of
// python/egom2p_edge/pipeline/decoder.py (whose docstring specifies the slots, how the
// conditional and unconditional rows run, and the order of the random draws). In official mode
// both rows share one padded encoder pass and one decoder pass (the paper's recipe as exported);
// in joint / single_pass each row runs alone and unpadded (the unconditional row holds a few
// dozen slots, not thousands); with ResolvedDecoding::reuse_condition the inputs' encoder output
// of step 0 is reused by the later steps (an approximation).
#pragma once

#include <string>
#include <vector>

#include "egom2p/decoding.h"
#include "egom2p/engine.h"
#include "egom2p/rng.h"
#include "egom2p/runtime.h"

namespace egom2p {

// One modality's tokens while decoding, each (N,).
struct TokenState {
  std::string name;
  int modality_index = 0;
  std::vector<int64_t> ids;
  std::vector<uint8_t> known;  // 1 = given or decoded (an encoder input)
  std::vector<float> probs;    // NaN where given or not decoded yet
};

class WindowDecoder {
 public:
  // The engines are shared (ONNX Runtime sessions may run concurrently) and must outlive this.
  WindowDecoder(Engine* backbone_encoder, Engine* backbone_decoder)
      : encoder_(backbone_encoder), decoder_(backbone_decoder) {}

  // Decodes in place into `states` (every target of `decoding` must have a state, all
  // unknown). The rng is seeded for this window; its steps are numbered from 0. `timers` may be
  // null; its `steps` grow to the plan's length.
  Status Decode(const ResolvedDecoding& decoding, const std::vector<PlanStep>& plan,
                PortableRng* rng, std::vector<TokenState>* states, StreamTimings* timers);

 private:
  Engine* encoder_;
  Engine* decoder_;
};

}  // namespace egom2p
