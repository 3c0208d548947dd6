#include "load_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace parklock::loadgen {
namespace {

// Linear interpolation between closest ranks (numpy.percentile's default).
double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

Stat stat_ms(std::vector<double> seconds) {
  Stat s;
  if (seconds.empty()) return s;
  std::sort(seconds.begin(), seconds.end());
  s.mean = 1e3 * std::accumulate(seconds.begin(), seconds.end(), 0.0) / static_cast<double>(seconds.size());
  s.median = 1e3 * percentile(seconds, 50);
  s.p99 = 1e3 * percentile(seconds, 99);
  return s;
}

nlohmann::json stat_json(const Stat& s) {
  return {{"mean", s.mean}, {"median", s.median}, {"p99", s.p99}};
}

}  // namespace

LoadReport summarize(const LoadResult& result) {
  LoadReport r;
  r.duration_s = result.duration_s;
  std::vector<double> ttft, tpot, itl, e2e;
  for (const RequestRecord& rec : result.records) {
    if (!rec.ok) {
      ++r.failed;
      if (r.first_error.empty()) r.first_error = rec.error;
      continue;
    }
    ++r.completed;
    r.input_tokens += rec.prompt_tokens;
    r.output_tokens += rec.output_tokens;
    ttft.push_back(rec.ttft_s);
    e2e.push_back(rec.e2e_s);
    if (rec.output_tokens > 1) tpot.push_back((rec.e2e_s - rec.ttft_s) / (rec.output_tokens - 1));
    itl.insert(itl.end(), rec.itl_s.begin(), rec.itl_s.end());
  }
  if (r.duration_s > 0) {
    r.requests_per_s = r.completed / r.duration_s;
    r.output_tokens_per_s = static_cast<double>(r.output_tokens) / r.duration_s;
    r.input_tokens_per_s = static_cast<double>(r.input_tokens) / r.duration_s;
  }
  r.ttft = stat_ms(std::move(ttft));
  r.tpot = stat_ms(std::move(tpot));
  r.itl = stat_ms(std::move(itl));
  r.e2e = stat_ms(std::move(e2e));
  return r;
}

std::string report_table(const LoadPlan& plan, const LoadReport& r) {
  std::string out;
  char line[160];
  auto row = [&](const char* name, const char* fmt, double v) {
    std::snprintf(line, sizeof line, "%-40s", name);
    out += line;
    std::snprintf(line, sizeof line, fmt, v);
    out += line;
    out += "\n";
  };
  auto section = [&](const char* title) {
    std::snprintf(line, sizeof line, "%s\n", title);
    out += line;
  };
  section("============ Serving Benchmark Result ============");
  std::snprintf(line, sizeof line, "%-40s%s\n", "Load:",
                plan.rate > 0 ? ("open loop, " + std::to_string(plan.rate) + " req/s").c_str()
                              : ("closed loop, " + std::to_string(plan.clients) + " clients").c_str());
  out += line;
  row("Successful requests:", "%.0f", r.completed);
  row("Failed requests:", "%.0f", r.failed);
  row("Benchmark duration (s):", "%.2f", r.duration_s);
  row("Total input tokens:", "%.0f", static_cast<double>(r.input_tokens));
  row("Total generated tokens:", "%.0f", static_cast<double>(r.output_tokens));
  row("Request throughput (req/s):", "%.2f", r.requests_per_s);
  row("Output token throughput (tok/s):", "%.2f", r.output_tokens_per_s);
  row("Input token throughput (tok/s):", "%.2f", r.input_tokens_per_s);
  auto stat = [&](const char* title, const char* name, const Stat& s) {
    section(title);
    std::string n = name;
    row(("Mean " + n + " (ms):").c_str(), "%.2f", s.mean);
    row(("Median " + n + " (ms):").c_str(), "%.2f", s.median);
    row(("P99 " + n + " (ms):").c_str(), "%.2f", s.p99);
  };
  stat("---------------Time to First Token----------------", "TTFT", r.ttft);
  stat("-----Time per Output Token (excl. 1st token)------", "TPOT", r.tpot);
  stat("---------------Inter-token Latency----------------", "ITL", r.itl);
  stat("----------------End-to-end Latency----------------", "E2EL", r.e2e);
  section("==================================================");
  return out;
}

nlohmann::json report_json(const LoadPlan& plan, const LoadReport& r) {
  return {{"model", plan.model},
          {"url", plan.url},
          {"clients", plan.rate > 0 ? 0 : plan.clients},
          {"rate", plan.rate},
          {"stream", plan.stream},
          {"requests_planned", plan.requests},
          {"requests_completed", r.completed},
          {"requests_failed", r.failed},
          {"duration_s", r.duration_s},
          {"total_input_tokens", r.input_tokens},
          {"total_output_tokens", r.output_tokens},
          {"requests_per_s", r.requests_per_s},
          {"output_tokens_per_s", r.output_tokens_per_s},
          {"input_tokens_per_s", r.input_tokens_per_s},
          {"ttft_ms", stat_json(r.ttft)},
          {"tpot_ms", stat_json(r.tpot)},
          {"itl_ms", stat_json(r.itl)},
          {"e2e_ms", stat_json(r.e2e)}};
}

}  // namespace parklock::loadgen
