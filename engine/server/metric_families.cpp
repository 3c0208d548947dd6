#include "engine/server/metric_families.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "parklock.h"

namespace parklock::engine::server {
namespace {

// "metrics/<name>" without the common "parklock_engine_" prefix: lock names
// keep 47 bytes, and the full metric names would not fit.
std::string lock_name(const std::string& metric) {
  constexpr std::string_view kPrefix = "parklock_engine_";
  std::string_view short_name = metric;
  if (short_name.substr(0, kPrefix.size()) == kPrefix) short_name.remove_prefix(kPrefix.size());
  return "metrics/" + std::string(short_name);
}

}  // namespace

std::vector<prometheus::ClientMetric::Label> make_labels(const std::vector<std::string>& names,
                                                         const LabelValues& values) {
  std::vector<prometheus::ClientMetric::Label> labels;
  for (size_t i = 0; i < names.size(); ++i) labels.push_back({names[i], values.at(i)});
  return labels;
}

CounterFamily::CounterFamily(std::string name, std::string help,
                             std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {
  PARKLOCK_SET_NAME(&mu_, lock_name(name_).c_str());
}

void CounterFamily::add(const LabelValues& labels, double amount) {
  if (labels.size() != label_names_.size())
    throw std::logic_error(name_ + ": wrong number of label values");
  std::lock_guard lock(mu_);
  values_[labels] += amount;
}

prometheus::MetricFamily CounterFamily::snapshot() const {
  std::map<LabelValues, double> values;
  {
    std::lock_guard lock(mu_);
    values = values_;
  }
  prometheus::MetricFamily family{name_, help_, prometheus::MetricType::Counter, {}};
  for (const auto& [labels, value] : values) {
    prometheus::ClientMetric m;
    m.label = make_labels(label_names_, labels);
    m.counter.value = value;
    family.metric.push_back(std::move(m));
  }
  return family;
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> label_names, std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()))
    throw std::invalid_argument(name_ + ": bucket bounds must ascend");
  PARKLOCK_SET_NAME(&mu_, lock_name(name_).c_str());
}

void HistogramFamily::observe(const LabelValues& labels, double value) {
  if (labels.size() != label_names_.size())
    throw std::logic_error(name_ + ": wrong number of label values");
  // Prometheus buckets are "less than or equal to the bound".
  const size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  std::lock_guard lock(mu_);
  Series& s = series_[labels];
  if (s.counts.empty()) s.counts.assign(bounds_.size() + 1, 0);
  ++s.counts[bucket];
  s.sum += value;
  ++s.count;
}

prometheus::MetricFamily HistogramFamily::snapshot() const {
  std::map<LabelValues, Series> series;
  {
    std::lock_guard lock(mu_);
    series = series_;
  }
  prometheus::MetricFamily family{name_, help_, prometheus::MetricType::Histogram, {}};
  for (const auto& [labels, s] : series) {
    prometheus::ClientMetric m;
    m.label = make_labels(label_names_, labels);
    m.histogram.sample_count = s.count;
    m.histogram.sample_sum = s.sum;
    uint64_t cumulative = 0;
    for (size_t b = 0; b < s.counts.size(); ++b) {
      cumulative += s.counts[b];
      m.histogram.bucket.push_back(
          {cumulative, b < bounds_.size() ? bounds_[b] : std::numeric_limits<double>::infinity()});
    }
    family.metric.push_back(std::move(m));
  }
  return family;
}

}  // namespace parklock::engine::server
