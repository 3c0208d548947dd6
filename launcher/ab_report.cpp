// The A/B's table and CSV. The plot is in ab_plot.cpp.
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "ab_report.h"

namespace parklock::launcher {
namespace {

std::string format(const char* pattern, auto... values) {
  char text[256];
  std::snprintf(text, sizeof text, pattern, values...);
  return text;
}

const char* direction(Better better) { return better == Better::higher ? "higher is better" : "lower is better"; }

}  // namespace

void print_table(std::ostream& out, const std::vector<ArmSummary>& summaries, const std::string& baseline,
                 const ReportContext& context) {
  int percent = int(context.confidence * 100 + 0.5);
  out << format("%s, %s: %d runs per arm", context.metric_label.c_str(), direction(context.better), context.runs);
  if (context.warmup > 0) out << format(" after %d warm-up round%s", context.warmup, context.warmup > 1 ? "s" : "");
  out << ", arms alternating\n\n";
  std::string ratio_heading = "ratio to " + baseline;
  out << format("%-10s %5s %12s %12s %12s %16s %20s  %s\n", "arm", "runs", "median", "min", "max",
                ratio_heading.c_str(), format("%d%% CI", percent).c_str(), "verdict");
  for (const auto& summary : summaries) {
    out << format("%-10s %5d %12.6g %12.6g %12.6g", summary.arm.c_str(), summary.runs, summary.median, summary.min,
                  summary.max);
    if (summary.arm == baseline) out << format(" %16s %20s  %s", "1", "-", "baseline");
    else if (!summary.ratio) out << format(" %16s %20s  %s", "-", "-", "no ratio (a figure is zero or negative)");
    else
      out << format(" %16.3f %20s  %s", summary.ratio->ratio,
                    format("[%.3f, %.3f]", summary.ratio->low, summary.ratio->high).c_str(),
                    to_string(*summary.verdict).c_str());
    out << "\n";
  }
  out << format("\nratio: the arm's median over %s's; \"no difference\" when the %d%% bootstrap interval contains 1.\n",
                baseline.c_str(), percent);
}

void write_csv(const std::filesystem::path& path, const AbResults& results) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out << "round,arm,value,wall_s\n";
  for (const auto& sample : results.samples)
    out << format("%d,%s,%.9g,%.6f\n", sample.round, sample.arm.c_str(), sample.value, sample.wall_seconds);
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace parklock::launcher
