// Resolving a stream's options against a bundle: the exact per-target decoding settings a
// stream uses (twin of python/egom2p_edge/streaming/options.py, whose docstring states the
// rules). Errors are InvalidArgument statuses naming the option, what was given and what fits.
#pragma once

#include "egom2p/bundle.h"
#include "egom2p/decoding.h"
#include "egom2p/runtime.h"

namespace egom2p {

Result<ResolvedDecoding> ResolveDecoding(const BundleManifest& manifest,
                                         const StreamOptions& options);

}  // namespace egom2p
