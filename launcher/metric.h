// The figure an A/B compares: read from each run's output (parklock-loadgen's
// JSON, a field of JSON the command prints, a regex over its output) or
// else the run's wall time; and whether higher or lower is better.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace parklock::launcher {

enum class Better { higher, lower };

struct MetricOptions {
  std::optional<std::string> loadgen_field;  // --loadgen-json FIELD, e.g. ttft_ms.p99
  std::optional<std::string> json_field;     // --json-field PATH into JSON on stdout
  std::optional<std::string> regex;          // --regex RE over stdout then stderr
  std::optional<std::string> better;         // --better higher|lower
  std::optional<std::string> name;           // --metric-name, for the report (and the direction)
};

// What one run left behind to read the figure from.
struct RunOutput {
  double wall_seconds = 0;
  std::filesystem::path stdout_path;
  std::filesystem::path stderr_path;
  std::filesystem::path loadgen_json_path;  // where {json} pointed
};

class Metric {
 public:
  // Throws UsageError for a nonsensical choice: more than one source, a
  // field parklock-loadgen does not write, a bad regex, or a direction that
  // cannot be told from the name and was not given.
  explicit Metric(const MetricOptions& options);

  // Throws UsageError, naming the output files, when the figure is not
  // in the output.
  double read(const RunOutput& output) const;

  Better better() const { return better_; }
  bool needs_loadgen_json() const { return source_ == Source::loadgen_json; }
  // "wall time (s)", "output_tokens_per_s (parklock-loadgen)", ...
  std::string label() const;

 private:
  enum class Source { wall_time, loadgen_json, json_field, regex };
  Source source_ = Source::wall_time;
  std::string expression_;
  std::string name_;
  Better better_ = Better::lower;
};

// Higher or lower is better for a figure called `name`, when the name says
// so: throughputs (per_s, throughput, qps, ...) are higher-is-better, times
// and latencies (_ms, _s, seconds, latency, ...) lower-is-better.
std::optional<Better> direction_from_name(const std::string& name);

}  // namespace parklock::launcher
