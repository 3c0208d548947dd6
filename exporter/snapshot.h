// snapshot.h: the recorder's tables at one moment, with names.
//
// Taken at each scrape, and at exit for the report and the dump. Reading
// the tables takes no lock (site_table.h says why that is safe while the
// program runs on); symbolizing allocates and reads files, which is why it
// happens here and never on a lock path.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "exporter_abi.h"
#include "lock_kind.h"
#include "symbolizer.h"
#include "wait_histogram.h"

namespace parklock {

struct HistogramSnapshot {
  uint64_t count = 0;
  uint64_t sum_ns = 0;
  uint64_t max_ns = 0;
  std::array<uint64_t, kHistogramBuckets> buckets{};  // per bucket, not cumulative

  void add(const HistogramSnapshot& other);
  // The upper bound of the bucket holding quantile q, capped at max_ns.
  uint64_t quantile_ns(double q) const;
};

struct SiteSnapshot {
  LockKind kind = LockKind::kMutex;
  std::string site;  // "function (file:line)" of the first frame outside the C/C++ runtimes; see kUnsampledSite, kOtherSite
  std::string lock;  // the lock's name, else its variable's symbol, else "anonymous"
  std::vector<uintptr_t> pcs;
  std::vector<ResolvedFrame> frames;  // pcs, resolved
  HistogramSnapshot wait;
  HistogramSnapshot hold;
  uint64_t caused_wait_ns = 0;
  uint64_t caused_wakeups = 0;
};

// The site label of events whose stack was not sampled, and of the events
// that found the site table full (and of the sites past the top K).
inline constexpr char kUnsampledSite[] = "(stack not sampled)";
inline constexpr char kOtherSite[] = "other";
inline constexpr char kAnonymousLock[] = "anonymous";

// A named lock's acquisitions (all locks with that name summed), by kind.
struct NamedLockSnapshot {
  std::string name;
  std::array<uint64_t, kLockKinds> acquisitions{};
};

struct Snapshot {
  uint64_t contended_acquisitions = 0;
  uint64_t parks = 0;
  uint64_t fair_handoffs = 0;
  uint64_t sites_used = 0;
  uint64_t dropped_events = 0;
  std::vector<SiteSnapshot> sites;  // the overflow site, if used, has site == kOtherSite
  std::vector<NamedLockSnapshot> named_locks;  // by name
};

Snapshot take_snapshot(const ExporterContext& context, Symbolizer& symbolizer);

}  // namespace parklock
