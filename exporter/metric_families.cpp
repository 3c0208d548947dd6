#include "metric_families.h"

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>

namespace parklock {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr double kNsPerSecond = 1e9;

// One exported series: the labels, and what the sites behind them add up to.
struct Series {
  std::string site;
  std::string lock;
  LockKind kind;
  HistogramSnapshot wait;
  HistogramSnapshot hold;
  uint64_t caused_wait_ns = 0;

  // Sums a site (SiteSnapshot) or another series into this one, labelled `site_label`.
  template <typename Part>
  void add(const std::string& site_label, const Part& part) {
    site = site_label;
    lock = part.lock;
    kind = part.kind;
    wait.add(part.wait);
    hold.add(part.hold);
    caused_wait_ns += part.caused_wait_ns;
  }
};
using SeriesKey = std::tuple<std::string, std::string, LockKind>;

// Groups by (label, lock, kind), keeps the top K by `weight` and folds the
// rest into site="other".
template <typename Label, typename Weight>
std::vector<Series> top_series(const Snapshot& snap, size_t top_k, Label label, Weight weight) {
  std::map<SeriesKey, Series> grouped;
  for (const SiteSnapshot& s : snap.sites) {
    const std::string site = label(s);
    grouped[{site, s.lock, s.kind}].add(site, s);
  }
  std::vector<Series> all;
  for (auto& [key, series] : grouped)
    if (weight(series) > 0) all.push_back(std::move(series));
  std::stable_sort(all.begin(), all.end(), [&](const Series& a, const Series& b) { return weight(a) > weight(b); });
  std::vector<Series> kept;
  std::map<std::pair<std::string, LockKind>, Series> other;
  for (size_t i = 0; i < all.size(); ++i) {
    if (i < top_k && all[i].site != kOtherSite) {
      kept.push_back(std::move(all[i]));
      continue;
    }
    other[{all[i].lock, all[i].kind}].add(kOtherSite, all[i]);
  }
  for (auto& [key, series] : other) kept.push_back(std::move(series));
  return kept;
}

ClientMetric histogram_metric(const HistogramSnapshot& h, std::vector<ClientMetric::Label> labels) {
  ClientMetric m;
  m.label = std::move(labels);
  m.histogram.sample_count = h.count;
  m.histogram.sample_sum = double(h.sum_ns) / kNsPerSecond;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kHistogramBounds; ++i) {
    cumulative += h.buckets[i];
    m.histogram.bucket.push_back({cumulative, double(kHistogramBoundsNs[i]) / kNsPerSecond});
  }
  m.histogram.bucket.push_back({h.count, std::numeric_limits<double>::infinity()});
  return m;
}

ClientMetric value_metric(double value, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  m.counter.value = value;
  m.gauge.value = value;
  return m;
}

MetricFamily family(std::string name, std::string help, MetricType type) {
  return MetricFamily{std::move(name), std::move(help), type, {}};
}

}  // namespace

std::vector<MetricFamily> metric_families(const Snapshot& snap, const ExportOptions& options) {
  std::vector<MetricFamily> out;
  const size_t k = size_t(std::max(options.top_k, 1));

  auto by_site = top_series(snap, k, [](const SiteSnapshot& s) { return s.site; },
                            [](const Series& s) { return s.wait.sum_ns + s.wait.count; });
  MetricFamily wait = family("parklock_lock_wait_seconds",
                             "Time threads waited to acquire a lock, by the call-site that waited.",
                             MetricType::Histogram);
  MetricFamily hold = family("parklock_lock_hold_seconds",
                             "How long contended acquisitions then held the lock, by call-site.",
                             MetricType::Histogram);
  for (const Series& s : by_site) {
    std::vector<ClientMetric::Label> labels{{"site", s.site}, {"lock", s.lock}, {"kind", lock_kind_label(s.kind)}};
    if (s.wait.count) wait.metric.push_back(histogram_metric(s.wait, labels));
    if (s.hold.count) hold.metric.push_back(histogram_metric(s.hold, labels));
  }
  out.push_back(std::move(wait));
  out.push_back(std::move(hold));

  auto by_holder = top_series(snap, k, [](const SiteSnapshot& s) { return s.site; },
                              [](const Series& s) { return s.caused_wait_ns; });
  MetricFamily holder = family("parklock_lock_holder_wait_seconds_total",
                               "Waiting that lock holders at this call-site caused, summed over the waiters "
                               "(charged to the unlock that ended it).",
                               MetricType::Counter);
  for (const Series& s : by_holder)
    holder.metric.push_back(value_metric(double(s.caused_wait_ns) / kNsPerSecond,
                                         {{"holder_site", s.site}, {"lock", s.lock}, {"kind", lock_kind_label(s.kind)}}));
  out.push_back(std::move(holder));

  MetricFamily named = family("parklock_lock_acquisitions_total",
                              "Acquisitions of each named lock (locks named with PARKLOCK_SET_NAME), by kind.",
                              MetricType::Counter);
  uint64_t named_total = 0;
  for (const NamedLockSnapshot& n : snap.named_locks) {
    for (int k = 0; k < kLockKinds; ++k) {
      if (!n.acquisitions[k]) continue;
      named_total += n.acquisitions[k];
      named.metric.push_back(value_metric(double(n.acquisitions[k]),
                                          {{"lock", n.name}, {"kind", lock_kind_label(LockKind(k))}}));
    }
  }
  out.push_back(std::move(named));

  auto counter = [&](const char* name, const char* help, double value) {
    MetricFamily f = family(name, help, MetricType::Counter);
    f.metric.push_back(value_metric(value));
    out.push_back(std::move(f));
  };
  auto gauge = [&](const char* name, const char* help, double value, std::vector<ClientMetric::Label> labels = {}) {
    MetricFamily f = family(name, help, MetricType::Gauge);
    f.metric.push_back(value_metric(value, std::move(labels)));
    out.push_back(std::move(f));
  };
  counter("parklock_acquisitions_total",
          "Acquisitions of all named mutexes and rwlocks together (an unnamed lock's fast path counts nothing, "
          "by design: see parklock_contended_acquisitions_total for every lock's contended ones).",
          double(named_total));
  counter("parklock_contended_acquisitions_total", "Lock acquisitions that had to wait (took the slow path).",
          double(snap.contended_acquisitions));
  counter("parklock_parks_total", "Times a thread went to sleep in the parking lot.", double(snap.parks));
  counter("parklock_fair_handoffs_total",
          "Unlocks that handed the lock directly to a waiter parked past the fairness interval.",
          double(snap.fair_handoffs));
  counter("parklock_sites_dropped_total", "Contention events recorded into the overflow site: the site table was full.",
          double(snap.dropped_events));
  gauge("parklock_sites", "Call-sites in the contention table.", double(snap.sites_used));
  gauge("parklock_info", "parklock's version, and whose lock algorithms serve the process.", 1,
        {{"version", options.version}, {"locks", options.observe_only ? "glibc" : "parklock"}});
  return out;
}

}  // namespace parklock
