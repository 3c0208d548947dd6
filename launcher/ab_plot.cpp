// The A/B's picture, drawn by gnuplot: one box per arm (quartiles, the
// median across it, whiskers to the extremes; computed here, so that any
// number of runs draws one) with each run's figure as a point over it,
// slightly spread sideways so equal figures stay visible.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "ab_report.h"
#include "ab_stats.h"
#include "child_process.h"

namespace parklock::launcher {
namespace {

// gnuplot's single-quoted strings take '' for a quote.
std::string quoted(const std::string& text) {
  std::string result = "'";
  for (char c : text) result += c == '\'' ? std::string("''") : std::string(1, c);
  return result + "'";
}

// A fixed sideways spread per run, so the picture is the same each time.
double spread(size_t index) {
  static const double offsets[] = {0, -0.08, 0.08, -0.04, 0.04, -0.12, 0.12, -0.02, 0.02, -0.1, 0.1, -0.06, 0.06};
  return offsets[index % std::size(offsets)];
}

}  // namespace

bool gnuplot_available() {
  const char* path = std::getenv("PATH");
  std::string directories = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= directories.size()) {
    size_t end = std::min(directories.find(':', start), directories.size());
    auto candidate = std::filesystem::path(directories.substr(start, end - start)) / "gnuplot";
    if (access(candidate.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

void write_plot(const std::filesystem::path& path, const AbResults& results,
                const std::vector<ArmSummary>& summaries, const ReportContext& context,
                const std::filesystem::path& work_dir) {
  auto points_path = work_dir / "points.dat";
  auto boxes_path = work_dir / "boxes.dat";
  {
    // Points: one block per arm (gnuplot's "index"), blocks two blank lines
    // apart. Boxes: x min q1 median q3 max, one line per arm.
    std::ofstream points(points_path);
    std::ofstream boxes(boxes_path);
    for (size_t arm = 0; arm < results.arms.size(); ++arm) {
      auto values = results.values_of(results.arms[arm]);
      for (size_t i = 0; i < values.size(); ++i) points << arm + 1 + spread(i) << ' ' << values[i] << '\n';
      points << "\n\n";
      auto box = quartiles(values);
      boxes << arm + 1 << ' ' << box.min << ' ' << box.q1 << ' ' << box.median << ' ' << box.q3 << ' ' << box.max
            << '\n';
    }
  }
  std::string tics;
  for (size_t arm = 0; arm < summaries.size(); ++arm) {
    std::string label = summaries[arm].arm;
    if (summaries[arm].ratio) {
      char ratio[64];
      std::snprintf(ratio, sizeof ratio, "\\n%.3fx [%.3f, %.3f]", summaries[arm].ratio->ratio,
                    summaries[arm].ratio->low, summaries[arm].ratio->high);
      label += ratio;
    }
    tics += (tics.empty() ? "" : ", ") + std::string("\"") + label + "\" " + std::to_string(arm + 1);
  }
  std::string direction = context.better == Better::higher ? "higher is better" : "lower is better";
  auto script_path = work_dir / "plot.gp";
  {
    std::ofstream script(script_path);
    script << "set terminal pngcairo size 960,600 noenhanced\n"
           << "set output " << quoted(path.string()) << "\n"
           << "set title " << quoted("parklock ab: " + context.metric_label + " (" + direction + "), " +
                                     std::to_string(context.runs) + " runs per arm")
           << "\n"
           << "set xlabel " << quoted("under each arm: its median over " + results.baseline + "'s [95% CI]") << " offset 0,-1.5\n"
           << "set ylabel " << quoted(context.metric_label) << "\n"
           << "set xtics (" << tics << ")\n"
           << "set xrange [0.5:" << results.arms.size() + 0.5 << "]\n"
           << "set bmargin 7\n"
           << "set grid ytics\n"
           << "set key off\n"
           << "set style fill transparent solid 0.3 border -1\n"
           << "set boxwidth 0.5\n"
           << "n = " << results.arms.size() << "\n"
           // candlesticks take x:box_min:whisker_min:whisker_max:box_max.
           << "plot " << quoted(boxes_path.string())
           << " using 1:3:2:6:5:($0+1) with candlesticks linecolor variable whiskerbars, \\\n"
           << "     " << quoted(boxes_path.string())
           << " using 1:4:4:4:4 with candlesticks linecolor black linewidth 2, \\\n"
           << "     for [i=0:n-1] " << quoted(points_path.string())
           << " index i using 1:2 with points pointtype 7 pointsize 1.2 linecolor i+1\n";
  }
  ChildProcess gnuplot({{"gnuplot", script_path.string()}, current_environment(), work_dir / "gnuplot.out",
                        work_dir / "gnuplot.err"});
  auto status = gnuplot.wait_for(std::chrono::seconds(60));
  if (!status) status = gnuplot.stop(std::chrono::seconds(1));
  if (!status->succeeded() || !std::filesystem::exists(path))
    throw std::runtime_error("gnuplot could not draw " + path.string() + " (" + status->describe() + "): " +
                             tail_of_file(work_dir / "gnuplot.err"));
}

}  // namespace parklock::launcher
