#include "snapshot.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace parklock {
namespace {

HistogramSnapshot snapshot_of(const Histogram& h) {
  HistogramSnapshot out;
  out.count = h.count.load(std::memory_order_relaxed);
  out.sum_ns = h.sum_ns.load(std::memory_order_relaxed);
  out.max_ns = h.max_ns.load(std::memory_order_relaxed);
  for (size_t i = 0; i < kHistogramBuckets; ++i) out.buckets[i] = h.buckets[i].load(std::memory_order_relaxed);
  return out;
}

std::string lock_label(const Site& site, Symbolizer& symbolizer) {
  if (site.name[0]) return std::string(site.name, strnlen(site.name, sizeof site.name));
  if (auto symbol = symbolizer.data_symbol(site.lock)) return *symbol;
  return kAnonymousLock;
}

}  // namespace

void HistogramSnapshot::add(const HistogramSnapshot& other) {
  count += other.count;
  sum_ns += other.sum_ns;
  max_ns = std::max(max_ns, other.max_ns);
  for (size_t i = 0; i < kHistogramBuckets; ++i) buckets[i] += other.buckets[i];
}

uint64_t HistogramSnapshot::quantile_ns(double q) const {
  if (count == 0) return 0;
  const double rank = q * double(count);
  uint64_t seen = 0;
  for (size_t i = 0; i < kHistogramBounds; ++i) {
    seen += buckets[i];
    if (double(seen) >= rank) return std::min(kHistogramBoundsNs[i], max_ns);
  }
  return max_ns;
}

Snapshot take_snapshot(const ExporterContext& context, Symbolizer& symbolizer) {
  Snapshot snap;
  const recorder::Counters& c = *context.counters;
  snap.contended_acquisitions = c.contended_acquisitions.load(std::memory_order_relaxed);
  snap.parks = c.parks.load(std::memory_order_relaxed);
  snap.fair_handoffs = c.fair_handoffs.load(std::memory_order_relaxed);
  if (context.read_named_locks) {
    // The name table's capacity bounds the count.
    std::vector<lock_names::NamedLockCount> counts(8192);
    counts.resize(context.read_named_locks(counts.data(), counts.size()));
    std::map<std::string, NamedLockSnapshot> by_name;
    for (const auto& c : counts) {
      NamedLockSnapshot& n = by_name[c.name];
      n.name = c.name;
      for (int k = 0; k < kLockKinds; ++k) n.acquisitions[k] += c.acquisitions[k];
    }
    for (auto& [name, n] : by_name) snap.named_locks.push_back(std::move(n));
  }
  SiteTable& table = *context.sites;
  if (!table.ready()) return snap;
  snap.sites_used = table.used();
  snap.dropped_events = table.dropped_events();
  for (size_t i = 0; i < table.capacity(); ++i) {
    Site& site = table.slot(i);
    if (!site.published()) continue;
    SiteSnapshot s;
    s.kind = site.kind;
    s.wait = snapshot_of(site.wait);
    s.hold = snapshot_of(site.hold);
    s.caused_wait_ns = site.caused_wait_ns.load(std::memory_order_relaxed);
    s.caused_wakeups = site.caused_wakeups.load(std::memory_order_relaxed);
    if (s.wait.count == 0 && s.caused_wakeups == 0) continue;  // the overflow site, unused
    if (i == SiteTable::kOverflowSlot) {
      s.site = kOtherSite;
      s.lock = kAnonymousLock;
    } else {
      s.lock = lock_label(site, symbolizer);
      s.pcs.assign(site.pcs, site.pcs + site.depth);
      for (uintptr_t pc : s.pcs) s.frames.push_back(symbolizer.resolve(pc));
      s.site = s.pcs.empty() ? std::string(kUnsampledSite) : symbolizer.describe_site(s.pcs.data(), s.pcs.size());
    }
    snap.sites.push_back(std::move(s));
  }
  return snap;
}

}  // namespace parklock
