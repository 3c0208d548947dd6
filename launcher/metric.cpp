#include "metric.h"

#include <array>
#include <cstdlib>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "child_process.h"
#include "usage_error.h"

namespace parklock::launcher {
namespace {

// The fields parklock-loadgen's --json file holds.
std::vector<std::string> loadgen_fields() {
  std::vector<std::string> fields = {"requests_completed", "requests_failed",     "duration_s",
                                     "requests_per_s",     "output_tokens_per_s", "input_tokens_per_s"};
  for (const char* latency : {"ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"})
    for (const char* statistic : {"mean", "median", "p99"})
      fields.push_back(std::string(latency) + "." + statistic);
  return fields;
}

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

bool ends_with_any(const std::string& text, std::initializer_list<const char*> suffixes) {
  for (const char* suffix : suffixes)
    if (text.ends_with(suffix)) return true;
  return false;
}

// "a.b.0" -> the JSON pointer /a/b/0, escaped per RFC 6901.
nlohmann::json::json_pointer pointer_from_dotted(const std::string& path) {
  std::string pointer;
  std::istringstream parts(path);
  for (std::string part; std::getline(parts, part, '.');) {
    std::string escaped;
    for (char c : part) escaped += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    pointer += "/" + escaped;
  }
  return nlohmann::json::json_pointer(pointer);
}

// The number at `path` in `document`, if there is one.
std::optional<double> number_at(const nlohmann::json& document, const std::string& path) {
  auto pointer = pointer_from_dotted(path);
  if (!document.contains(pointer)) return std::nullopt;
  const auto& value = document.at(pointer);
  if (!value.is_number()) return std::nullopt;
  return value.get<double>();
}

// The JSON a command printed: all of stdout, else its last line that parses
// (a program may print progress before its JSON summary).
std::optional<nlohmann::json> json_in_output(const std::string& text) {
  auto whole = nlohmann::json::parse(text, nullptr, false);
  if (!whole.is_discarded()) return whole;
  std::istringstream lines(text);
  std::optional<nlohmann::json> last;
  for (std::string line; std::getline(lines, line);) {
    auto parsed = nlohmann::json::parse(line, nullptr, false);
    if (!parsed.is_discarded() && parsed.is_structured()) last = std::move(parsed);
  }
  return last;
}

std::string output_files(const RunOutput& output) {
  return output.stdout_path.string() + " and " + output.stderr_path.string();
}

}  // namespace

std::optional<Better> direction_from_name(const std::string& name) {
  for (const char* part : {"per_s", "per_sec", "throughput", "qps", "rps", "tps", "ops", "completed"})
    if (contains(name, part)) return Better::higher;
  for (const char* part : {"latency", "time", "ttft", "tpot", "itl", "e2e", "duration", "failed"})
    if (contains(name, part)) return Better::lower;
  if (ends_with_any(name, {"_ms", "_us", "_ns", "_s", "_seconds", ".mean", ".median", ".p99"}))
    return Better::lower;
  return std::nullopt;
}

Metric::Metric(const MetricOptions& options) {
  int sources = int(options.loadgen_field.has_value()) + int(options.json_field.has_value()) +
                int(options.regex.has_value());
  if (sources > 1) throw UsageError("choose one of --loadgen-json, --json-field and --regex");
  std::optional<Better> implied;
  if (options.loadgen_field) {
    source_ = Source::loadgen_json;
    expression_ = *options.loadgen_field;
    auto fields = loadgen_fields();
    if (std::find(fields.begin(), fields.end(), expression_) == fields.end()) {
      std::string known;
      for (const auto& field : fields) known += " " + field;
      throw UsageError("--loadgen-json: parklock-loadgen writes no field '" + expression_ +
                       "'; it writes:" + known);
    }
    implied = direction_from_name(expression_);
  } else if (options.json_field) {
    source_ = Source::json_field;
    expression_ = *options.json_field;
    if (expression_.empty() || expression_.front() == '.' || expression_.back() == '.' ||
        contains(expression_, ".."))
      throw UsageError("--json-field: '" + expression_ + "' is not a dotted path such as stats.p99_ms");
    implied = direction_from_name(expression_);
  } else if (options.regex) {
    source_ = Source::regex;
    expression_ = *options.regex;
    try {
      std::regex compiled(expression_);
      if (compiled.mark_count() > 1)
        throw UsageError("--regex: use at most one capture group (the number), got " +
                         std::to_string(compiled.mark_count()));
    } catch (const std::regex_error& error) {
      throw UsageError("--regex: '" + expression_ + "' is not a valid regular expression (" +
                       error.what() + ")");
    }
  } else {
    implied = Better::lower;  // wall time
  }
  if (options.name) {
    name_ = *options.name;
    if (auto from_name = direction_from_name(name_)) implied = from_name;
  }
  if (options.better == std::optional<std::string>("higher")) better_ = Better::higher;
  else if (options.better == std::optional<std::string>("lower")) better_ = Better::lower;
  else if (options.better) throw UsageError("--better takes higher or lower, not '" + *options.better + "'");
  else if (implied) better_ = *implied;
  else
    throw UsageError("cannot tell whether a higher or a lower " + label() +
                     " is better: give --better higher or --better lower");
}

double Metric::read(const RunOutput& output) const {
  switch (source_) {
    case Source::wall_time:
      return output.wall_seconds;
    case Source::loadgen_json: {
      auto document = nlohmann::json::parse(read_file(output.loadgen_json_path), nullptr, false);
      if (document.is_discarded())
        throw UsageError("the load command wrote no JSON to " + output.loadgen_json_path.string() +
                         ": pass {json} as its --json argument, or read $PARKLOCK_AB_JSON");
      if (auto value = number_at(document, expression_)) return *value;
      throw UsageError("no number at '" + expression_ + "' in " + output.loadgen_json_path.string());
    }
    case Source::json_field: {
      auto document = json_in_output(read_file(output.stdout_path));
      if (!document) throw UsageError("the command printed no JSON on stdout (" + output.stdout_path.string() + ")");
      if (auto value = number_at(*document, expression_)) return *value;
      throw UsageError("no number at '" + expression_ + "' in the JSON the command printed (" +
                       output.stdout_path.string() + ")");
    }
    case Source::regex: {
      std::regex compiled(expression_);
      std::string text = read_file(output.stdout_path) + read_file(output.stderr_path);
      std::optional<std::string> last;
      for (auto it = std::sregex_iterator(text.begin(), text.end(), compiled); it != std::sregex_iterator(); ++it)
        last = (*it)[compiled.mark_count() == 1 ? 1 : 0].str();
      if (!last) throw UsageError("--regex '" + expression_ + "' matches nothing in " + output_files(output));
      char* end = nullptr;
      double value = std::strtod(last->c_str(), &end);
      if (last->empty() || end != last->c_str() + last->size())
        throw UsageError("--regex '" + expression_ + "' matched '" + *last + "', which is not a number");
      return value;
    }
  }
  return 0;
}

std::string Metric::label() const {
  if (!name_.empty()) return name_;
  switch (source_) {
    case Source::wall_time:
      return "wall time (s)";
    case Source::loadgen_json:
      return expression_ + " (parklock-loadgen)";
    case Source::json_field:
      return expression_;
    case Source::regex:
      return "/" + expression_ + "/";
  }
  return "";
}

}  // namespace parklock::launcher
