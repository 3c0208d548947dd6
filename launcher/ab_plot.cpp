// The A/B's picture, drawn by gnuplot: one box per arm (quartiles, whiskers
// to the extremes) with each run's figure as a point over it, slightly
// spread sideways so equal figures stay visible.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "ab_report.h"
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
  auto data_path = work_dir / "plot.dat";
  {
    // One block per arm (gnuplot's "index"), blocks two blank lines apart.
    std::ofstream data(data_path);
    for (size_t arm = 0; arm < results.arms.size(); ++arm) {
      auto values = results.values_of(results.arms[arm]);
      for (size_t i = 0; i < values.size(); ++i) data << arm + 1 + spread(i) << ' ' << values[i] << '\n';
      data << "\n\n";
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
                                     std::to_string(context.runs) + " runs per arm; ratio to " + results.baseline +
                                     " with its 95% CI")
           << "\n"
           << "set ylabel " << quoted(context.metric_label) << "\n"
           << "set xtics (" << tics << ")\n"
           << "set xrange [0.5:" << results.arms.size() + 0.5 << "]\n"
           << "set bmargin 5\n"
           << "set grid ytics\n"
           << "set key off\n"
           << "set style fill transparent solid 0.3 border -1\n"
           << "set style boxplot range 100\n"
           << "set boxwidth 0.5\n"
           << "n = " << results.arms.size() << "\n"
           << "plot for [i=0:n-1] " << quoted(data_path.string())
           << " index i using (i+1):2 with boxplot linecolor i+1, \\\n"
           << "     for [i=0:n-1] " << quoted(data_path.string())
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
