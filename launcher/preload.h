// The preload and its settings as the launcher hands them to a command:
// libparklock.so goes first in LD_PRELOAD, and each setting is one
// PARKLOCK_* environment variable that the library reads when it loads.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace parklock::launcher {

// "NAME=value" strings, in the form execve takes them.
using Environment = std::vector<std::string>;

struct PreloadSettings {
  std::optional<std::string> metrics;  // PARKLOCK_METRICS=[host:]port
  std::optional<std::string> report;   // PARKLOCK_REPORT=stderr|PATH
  std::optional<std::string> dump;     // PARKLOCK_DUMP=PATH.json
  bool observe_only = false;           // PARKLOCK_LOCKS=glibc
  bool record = false;                 // PARKLOCK_RECORD=1: record, print nothing
  std::optional<int> stack_depth;      // PARKLOCK_STACK_DEPTH=N
  std::optional<int> sample;           // PARKLOCK_SAMPLE=N
  std::optional<int> top;              // PARKLOCK_TOP=K
};

// --stack-depth and --sample, which both `run` and `ab` take.
void add_stack_options(CLI::App& command, PreloadSettings& settings);

// The library next to this executable: build/bin -> build/lib in the build
// tree, <prefix>/bin -> <prefix>/<libdir> once installed. Throws
// std::runtime_error naming the places it looked.
std::string find_preload_library();

// This process's environment.
Environment current_environment();

// `environment` with every PARKLOCK_* setting dropped and libparklock.so
// taken out of LD_PRELOAD (other preloads stay): how a command runs with
// glibc's locks, and the clean base the other A/B arms start from.
Environment without_preload(Environment environment);

// `environment` with `library` first in LD_PRELOAD (once; other preloads
// kept after it) and `settings` set, replacing inherited values of the same
// variables.
Environment with_preload(Environment environment, const std::string& library,
                         const PreloadSettings& settings);

// Sets NAME to `value` in `environment`, replacing an earlier value.
void set_variable(Environment& environment, const std::string& name, const std::string& value);

}  // namespace parklock::launcher
