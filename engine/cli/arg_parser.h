// Command-line options of the parklock-engine subcommands.
//
// Each subcommand declares its options once (CommandSpec); parsing, the
// --help text and the error messages all come from that declaration, so
// they cannot drift apart. Accepted forms: "--name value", "--name=value",
// and "--name" for flags. An option may be given more than once when the
// spec says so (e.g. several --stop strings).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace parklock::engine::cli {

// A bad command line; main() prints the message and the usage, exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  std::string name;        // without the leading "--"
  std::string value_name;  // e.g. "N"; empty for a flag
  std::string help;
  std::string default_value;  // shown in --help and returned when absent; "" = none
  bool repeatable = false;
};

struct CommandSpec {
  std::string name;
  std::string summary;
  std::vector<OptionSpec> options;
};

class ParsedArgs {
 public:
  bool has(const std::string& name) const;  // given on the command line
  bool flag(const std::string& name) const;
  // The value given, else the spec's default; UsageError when neither.
  std::string str(const std::string& name) const;
  std::vector<std::string> all(const std::string& name) const;  // repeatable options
  // Parsed and range-checked; UsageError names the option and the bad value.
  int64_t integer(const std::string& name, int64_t min, int64_t max) const;
  double real(const std::string& name, double min, double max) const;

 private:
  friend ParsedArgs parse_args(const CommandSpec& spec, std::span<char* const> args);
  const CommandSpec* spec_ = nullptr;
  std::map<std::string, std::vector<std::string>> values_;
};

// Throws UsageError for unknown options, missing values, or a value given
// to a flag. "--help" is reported by ParsedArgs::flag("help").
ParsedArgs parse_args(const CommandSpec& spec, std::span<char* const> args);

std::string usage(const CommandSpec& spec);

}  // namespace parklock::engine::cli
