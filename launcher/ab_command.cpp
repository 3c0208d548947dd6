// `parklock ab`: a workload without and with the preload, alternating,
// compared by medians with a bootstrap confidence interval; a table on
// stdout, progress on stderr, and optionally a CSV and a PNG.
#include <stdlib.h>

#include <iostream>
#include <memory>

#include "ab_report.h"
#include "ab_runner.h"
#include "subcommands.h"
#include "usage_error.h"

namespace parklock::launcher {
namespace {

struct AbOptions {
  std::vector<std::string> command;
  std::optional<std::string> server, load, health;
  std::string arms = "glibc,parklock,observe,record";
  std::string baseline = "glibc";
  int runs = 5;
  int warmup = 1;
  MetricOptions metric;
  bool same_output = false;
  std::optional<std::string> csv, plot;
  double timeout_s = 600, ready_timeout_s = 120, grace_s = 10;
  BootstrapOptions bootstrap;
  PreloadSettings stack;  // --stack-depth, --sample for the recording arms
};

std::chrono::milliseconds milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

void check_workload(const AbOptions& options) {
  if (options.server && !options.command.empty())
    throw UsageError("give either a command after -- or --server with --load, not both");
  if (options.server && !options.load) throw UsageError("--server needs --load, the command that drives it");
  if (options.load && !options.server) throw UsageError("--load needs --server, the server it drives");
  if (options.health && !options.server) throw UsageError("--health needs --server");
  if (!options.server && options.command.empty())
    throw UsageError("no workload: give a command after --, or --server \"CMD\" --load \"CMD\"");
  if (options.plot && !options.plot->ends_with(".png")) throw UsageError("--plot writes a PNG: name it FILE.png");
  if (options.plot && !gnuplot_available())
    throw UsageError("--plot needs gnuplot on PATH (Debian: apt-get install gnuplot-nox)");
}

// A directory for the runs' output: removed after a good A/B, kept (and
// named) after a failed one so its output can be read.
class WorkDirectory {
 public:
  WorkDirectory() {
    auto pattern = (std::filesystem::temp_directory_path() / "parklock-ab.XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create a directory under " + pattern);
    path_ = pattern;
  }
  ~WorkDirectory() {
    if (keep_) {
      std::cerr << "parklock ab: the runs' output is in " << path_.string() << "\n";
    } else {
      std::error_code ignored;
      std::filesystem::remove_all(path_, ignored);
    }
  }
  const std::filesystem::path& path() const { return path_; }
  void keep() { keep_ = true; }

 private:
  std::filesystem::path path_;
  bool keep_ = false;
};

void run_ab_command(const AbOptions& options) {
  check_workload(options);
  Metric metric(options.metric);
  AbPlan plan;
  plan.workload = {options.command,
                   options.server,
                   options.load,
                   options.health,
                   milliseconds(options.timeout_s),
                   milliseconds(options.ready_timeout_s),
                   milliseconds(options.grace_s)};
  plan.arms = arms_from_list(options.arms);
  plan.baseline = options.baseline;
  if (std::none_of(plan.arms.begin(), plan.arms.end(), [&](const Arm& arm) { return arm.name == plan.baseline; }))
    throw UsageError("--baseline " + plan.baseline + " is not one of --arms " + options.arms);
  for (auto& arm : plan.arms) {
    if (!arm.settings.record) continue;
    arm.settings.stack_depth = options.stack.stack_depth;
    arm.settings.sample = options.stack.sample;
  }
  plan.runs = options.runs;
  plan.warmup = options.warmup;
  plan.same_output = options.same_output;
  plan.library = find_preload_library();

  WorkDirectory work_dir;
  plan.work_dir = work_dir.path();
  AbResults results;
  try {
    results = run_ab(plan, metric, std::cerr);
  } catch (...) {
    work_dir.keep();
    throw;
  }
  ReportContext context{metric.label(), metric.better(), options.runs, options.warmup, options.bootstrap.confidence};
  auto summaries = summarize(results, metric.better(), options.bootstrap);
  std::cout << "\n";
  print_table(std::cout, summaries, plan.baseline, context);
  if (options.csv) {
    write_csv(*options.csv, results);
    std::cout << "csv: " << *options.csv << "\n";
  }
  if (options.plot) {
    write_plot(*options.plot, results, summaries, context, work_dir.path());
    std::cout << "plot: " << *options.plot << "\n";
  }
}

}  // namespace

void add_ab_command(CLI::App& app) {
  auto options = std::make_shared<AbOptions>();
  auto* ab = app.add_subcommand("ab", "Run a workload without and with parklock, alternating, and compare");
  std::string arms = "Arms (each round runs every arm once, in --arms order):\n";
  for (const auto& arm : all_arms()) arms += "  " + arm.name + std::string(10 - arm.name.size(), ' ') + arm.description + "\n";
  ab->footer(
      "Forms: parklock ab [OPTIONS] -- CMD [ARGS...]\n"
      "       parklock ab [OPTIONS] --server \"CMD\" --load \"CMD\" [--health URL]\n\n" +
      arms +
      "\n"
      "Placeholders, filled in per run in the command, --server, --load and --health:\n"
      "  {json}  a fresh file for the load's JSON summary (also $PARKLOCK_AB_JSON)\n"
      "  {port}  a free port on 127.0.0.1 for the server\n"
      "  {url}   the server's URL: from its \"listening on URL\" line, else\n"
      "          http://127.0.0.1:{port} (also $PARKLOCK_AB_URL)\n"
      "The server runs under the arm; the load runs without any preload.\n\n"
      "The figure compared: --loadgen-json FIELD from parklock-loadgen's JSON, a\n"
      "--json-field of JSON printed on stdout, the last --regex match over stdout\n"
      "then stderr (its capture group, if any), or else the wall time of the command\n"
      "(of the load, with a server).\n\n"
      "Exit status: 0 when the A/B ran, 2 for a usage mistake (an option, or a figure\n"
      "that is not in the output), 1 when a run failed.");
  ab->add_option("--runs", options->runs, "Measured rounds (every arm once per round), 3 or more")
      ->capture_default_str()
      ->check(CLI::Range(3, 100000));
  ab->add_option("--warmup", options->warmup, "Rounds run first and not counted")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  ab->add_option("--arms", options->arms, "Comma-separated arms, in the order each round runs them")
      ->capture_default_str();
  ab->add_option("--baseline", options->baseline, "The arm the others are compared to")->capture_default_str();
  ab->add_option("--server", options->server, "Shell command line of a server, run under each arm");
  ab->add_option("--load", options->load, "Shell command line that drives the server, run without the preload");
  ab->add_option("--health", options->health,
                 "Server ready when this answers: http://HOST:PORT/PATH (status 200) or tcp://HOST:PORT; "
                 "else when it prints 'listening on URL'");
  ab->add_option("--loadgen-json", options->metric.loadgen_field,
                 "Compare this field of parklock-loadgen's --json {json} file, e.g. output_tokens_per_s, ttft_ms.p99");
  ab->add_option("--json-field", options->metric.json_field,
                 "Compare this dotted path into JSON the command prints on stdout");
  ab->add_option("--regex", options->metric.regex,
                 "Compare the number this matches (its capture group, if any) in the output, last match");
  ab->add_option("--better", options->metric.better, "Whether a higher or lower figure is better (else told from its name)")
      ->check(CLI::IsMember({"higher", "lower"}));
  ab->add_option("--metric-name", options->metric.name,
                 "What to call the figure in the table and the plot (its direction is told from it too)");
  ab->add_flag("--same-output", options->same_output, "Fail when a run's stdout differs from the first run's");
  ab->add_option("--csv", options->csv, "Write every run's figure to FILE.csv");
  ab->add_option("--plot", options->plot, "Draw each arm's figures to FILE.png (gnuplot)");
  ab->add_option("--timeout", options->timeout_s, "Seconds a command (or the load) may run")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  ab->add_option("--ready-timeout", options->ready_timeout_s, "Seconds a server may take to become ready")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  ab->add_option("--grace", options->grace_s, "Seconds from SIGTERM to SIGKILL when stopping a server")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  ab->add_option("--seed", options->bootstrap.seed, "Seed of the bootstrap's resampling")->capture_default_str();
  ab->add_option("--resamples", options->bootstrap.resamples, "Bootstrap resamples")
      ->capture_default_str()
      ->check(CLI::Range(100, 1000000));
  add_stack_options(*ab, options->stack);
  ab->add_option("command", options->command, "The command and its arguments, after --");
  ab->callback([options] { run_ab_command(*options); });
}

}  // namespace parklock::launcher
