// dump_json.h: a snapshot as the JSON document of PARKLOCK_DUMP.
//
// {
//   "parklock": {"version": "0.1.0", "locks": "parklock"|"glibc", "pid": 123},
//   "counters": {"contended_acquisitions", "parks", "fair_handoffs", "sites", "dropped_events"},
//   "histogram_bounds_seconds": [1e-06, 2.5e-06, ...],   // per-bucket counts below use these, then +Inf
//   "sites": [{"kind": "mutex", "lock": "request_queue", "site": "worker (queue.cpp:42)",
//              "stack": [{"pc": "0x...", "function", "file", "line", "path", "module", "offset": "0x..."}],
//              "wait": {"count", "sum_ns", "max_ns", "buckets": [...]},
//              "hold": {...}, "caused_wait_ns", "caused_wakeups"}]
// }
// `parklock report` reads it back (report_table.h).
#pragma once

#include <nlohmann/json.hpp>

#include "snapshot.h"

namespace parklock {

struct DumpInfo {
  std::string version;
  bool observe_only = false;
  long pid = 0;
};

nlohmann::json dump_json(const Snapshot& snapshot, const DumpInfo& info);

}  // namespace parklock
