// Counter and histogram families for the engine's /metrics, each guarded by
// its own named std::mutex: recording takes the family's lock for a few
// additions, and a scrape copies the family out under the same lock (the
// snapshot-under-lock pattern), so a scrape never sees half an update and
// recording never waits for the text formatting.
//
// Label values are the family's own (e.g. {model_name, finished_reason});
// a family holds one series per distinct label tuple, created on first use.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

namespace parklock::engine::server {

using LabelValues = std::vector<std::string>;

class CounterFamily {
 public:
  // `name` is the full metric name ending in _total; the lock is named
  // "metrics/<name without parklock_engine_>" for parklock's reports.
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names);
  CounterFamily(const CounterFamily&) = delete;
  CounterFamily& operator=(const CounterFamily&) = delete;

  void add(const LabelValues& labels, double amount);
  prometheus::MetricFamily snapshot() const;

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  mutable std::mutex mu_;
  std::map<LabelValues, double> values_;  // guarded by mu_
};

class HistogramFamily {
 public:
  // `bounds`: ascending upper bounds of the finite buckets (+Inf is implied).
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds);
  HistogramFamily(const HistogramFamily&) = delete;
  HistogramFamily& operator=(const HistogramFamily&) = delete;

  void observe(const LabelValues& labels, double value);
  prometheus::MetricFamily snapshot() const;

 private:
  struct Series {
    std::vector<uint64_t> counts;  // per bucket (not cumulative), +Inf last
    double sum = 0;
    uint64_t count = 0;
  };

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<LabelValues, Series> series_;  // guarded by mu_
};

// Label pairs for a ClientMetric.
std::vector<prometheus::ClientMetric::Label> make_labels(const std::vector<std::string>& names,
                                                         const LabelValues& values);

}  // namespace parklock::engine::server
