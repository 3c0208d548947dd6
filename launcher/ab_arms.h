// The A/B's arms: the same workload with glibc's locks, with parklock's,
// observe-only (glibc's algorithms, contention recorded) and parklock with
// recording on. Observe-only against glibc is the instrumentation's cost,
// parklock against glibc the algorithm's effect, and recording against
// parklock what the recorder adds on top of it. The recording arms set
// PARKLOCK_RECORD=1, which records without printing or serving anything,
// so the workload's own output is unaffected.
#pragma once

#include <string>
#include <vector>

#include "preload.h"

namespace parklock::launcher {

struct Arm {
  std::string name;         // glibc, parklock, observe, record
  std::string description;  // one line, for --help and the report
  bool preloaded = false;
  PreloadSettings settings;
};

// Every arm, in the default order.
const std::vector<Arm>& all_arms();

// The arms named in a comma-separated list, in its order. Throws UsageError
// for an unknown or repeated name.
std::vector<Arm> arms_from_list(const std::string& list);

// The environment an arm's command runs in: `base` cleaned of any
// inherited preload and settings, then the arm's.
Environment environment_for(const Arm& arm, const Environment& base, const std::string& library);

}  // namespace parklock::launcher
