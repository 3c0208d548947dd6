// metric_families.h: a snapshot as Prometheus metric families.
//
// Names and labels (Prometheus conventions: seconds, _total counters):
//   parklock_lock_wait_seconds{site,lock,kind}            histogram
//   parklock_lock_hold_seconds{site,lock,kind}            histogram (mutex, condvar)
//   parklock_lock_holder_wait_seconds_total{holder_site,lock,kind}
//   parklock_lock_acquisitions_total{lock,kind}             named mutexes and rwlocks
//   parklock_acquisitions_total                            their sum
//   parklock_contended_acquisitions_total, parklock_parks_total,
//   parklock_fair_handoffs_total, parklock_sites, parklock_sites_dropped_total,
//   parklock_info{version,locks}
// Sites are aggregated by their labels (two stacks with the same innermost
// frame are one series); the top K series by total wait keep their site
// label and the rest are summed into site="other", so the series count stays
// bounded however many call-sites the program has.
#pragma once

#include <vector>

#include <prometheus/metric_family.h>

#include "snapshot.h"

namespace parklock {

struct ExportOptions {
  int top_k = 50;
  std::string version;
  bool observe_only = false;
};

std::vector<prometheus::MetricFamily> metric_families(const Snapshot& snapshot, const ExportOptions& options);

}  // namespace parklock
