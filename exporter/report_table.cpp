#include "report_table.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <vector>

namespace parklock {
namespace {

struct Row {
  std::string site, lock, kind;
  uint64_t waits = 0, sum_ns = 0, max_ns = 0, p99_ns = 0;
  uint64_t caused_ns = 0;
};

uint64_t p99_ns(const nlohmann::json& wait, const std::vector<double>& bounds_s) {
  const uint64_t count = wait.at("count").get<uint64_t>();
  const uint64_t max_ns = wait.at("max_ns").get<uint64_t>();
  if (count == 0) return 0;
  const auto& buckets = wait.at("buckets");
  uint64_t seen = 0;
  for (size_t i = 0; i < bounds_s.size() && i < buckets.size(); ++i) {
    seen += buckets[i].get<uint64_t>();
    if (double(seen) >= 0.99 * double(count)) return std::min(uint64_t(bounds_s[i] * 1e9 + 0.5), max_ns);
  }
  return max_ns;
}

std::string format(const char* fmt, double value) {
  char text[32];
  std::snprintf(text, sizeof text, fmt, value);
  return text;
}

// Milliseconds for totals, microseconds for single waits: the units a
// reader compares without counting digits.
std::string ms(uint64_t ns) { return format("%.3f", double(ns) / 1e6); }
std::string us(uint64_t ns) { return format("%.1f", double(ns) / 1e3); }

std::string pad(const std::string& s, size_t width, bool right) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

}  // namespace

std::string render_report(const nlohmann::json& dump, int top_n) {
  if (!dump.is_object() || !dump.contains("parklock") || !dump.contains("sites"))
    throw std::runtime_error("not a parklock dump (no \"parklock\" and \"sites\" members)");
  std::vector<double> bounds = dump.at("histogram_bounds_seconds").get<std::vector<double>>();
  // Rows by (site, lock, kind).
  std::map<std::tuple<std::string, std::string, std::string>, Row> rows;
  std::map<std::string, std::map<std::string, uint64_t>> holders;  // lock -> holder site -> caused
  for (const auto& s : dump.at("sites")) {
    Row key_row{s.at("site").get<std::string>(), s.at("lock").get<std::string>(), s.at("kind").get<std::string>()};
    Row& row = rows.try_emplace({key_row.site, key_row.lock, key_row.kind}, key_row).first->second;
    const auto& wait = s.at("wait");
    row.waits += wait.at("count").get<uint64_t>();
    row.sum_ns += wait.at("sum_ns").get<uint64_t>();
    row.max_ns = std::max(row.max_ns, wait.at("max_ns").get<uint64_t>());
    row.p99_ns = std::max(row.p99_ns, p99_ns(wait, bounds));
    if (uint64_t caused = s.at("caused_wait_ns").get<uint64_t>())
      holders[row.lock][row.site] += caused;
  }
  std::vector<Row> sorted;
  for (auto& [key, row] : rows)
    if (row.waits) sorted.push_back(row);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Row& a, const Row& b) { return a.sum_ns > b.sum_ns; });

  const auto& counters = dump.at("counters");
  std::string out = "parklock: lock contention by call-site (pid " + dump.at("parklock").at("pid").dump() + ", locks: " +
                    dump.at("parklock").at("locks").get<std::string>() + ")\n";
  out += "  contended acquisitions " + counters.at("contended_acquisitions").dump() + ", parks " +
         counters.at("parks").dump() + ", fair handoffs " + counters.at("fair_handoffs").dump() + ", sites " +
         counters.at("sites").dump() + ", events without a site " + counters.at("dropped_events").dump() + "\n";
  if (sorted.empty()) return out + "  no lock waited on long enough to record\n";
  const size_t shown = std::min(sorted.size(), size_t(std::max(top_n, 1)));
  out += "  top " + std::to_string(shown) + " of " + std::to_string(sorted.size()) + " by total wait\n\n";
  out += "  " + pad("#", 3, true) + " " + pad("waits", 9, true) + " " + pad("total ms", 11, true) + " " +
         pad("mean us", 10, true) + " " + pad("p99 us", 10, true) + " " + pad("max us", 10, true) + "  " +
         pad("kind", 12, false) + " " + pad("lock", 20, false) + " site\n";
  for (size_t i = 0; i < shown; ++i) {
    const Row& r = sorted[i];
    out += "  " + pad(std::to_string(i + 1), 3, true) + " " + pad(std::to_string(r.waits), 9, true) + " " +
           pad(ms(r.sum_ns), 11, true) + " " + pad(us(r.sum_ns / r.waits), 10, true) + " " + pad(us(r.p99_ns), 10, true) +
           " " + pad(us(r.max_ns), 10, true) + "  " + pad(r.kind, 12, false) + " " + pad(r.lock, 20, false) + " " +
           r.site + "\n";
    // Holders are matched to waiters by lock label; unnamed locks without a
    // symbol all read "anonymous", so they are not matched.
    auto found = holders.find(r.lock);
    if (found == holders.end() || r.lock == "anonymous") continue;
    std::vector<std::pair<std::string, uint64_t>> by_caused(found->second.begin(), found->second.end());
    std::stable_sort(by_caused.begin(), by_caused.end(), [](auto& a, auto& b) { return a.second > b.second; });
    for (size_t h = 0; h < by_caused.size() && h < 3; ++h)
      out += "        held by " + by_caused[h].first + ": caused " + ms(by_caused[h].second) + " ms of waiting\n";
  }
  return out;
}

}  // namespace parklock
