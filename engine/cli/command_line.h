// Command lines of the parklock-engine subcommands, on CLI11.
//
// Each subcommand builds a CLI::App from option structs (one struct per
// group of options that several commands share), so the parsing, the
// --help text and the error messages come from one declaration.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace parklock::engine::cli {

// A bad command line found after CLI11's own checks (e.g. a combination of
// options); main() prints it with a pointer to --help, exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses argv (argv[0] is the subcommand's name). Returns nullopt to go on,
// or the exit status to return at once: 0 after printing --help, 2 after
// printing a parse error.
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

}  // namespace parklock::engine::cli
