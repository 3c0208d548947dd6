// `parklock run [settings] -- CMD ARGS...`: execs the command with the
// preload first in LD_PRELOAD and the settings in its environment, so its
// exit status is the command's own.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <regex>

#include "preload.h"
#include "subcommands.h"

namespace parklock::launcher {
namespace {

struct RunOptions {
  PreloadSettings settings;
  std::vector<std::string> command;
};

// PARKLOCK_METRICS takes [host:]port.
std::string check_metrics_address(const std::string& address) {
  static const std::regex form(R"(^(?:([^:\s]+|\[[0-9A-Fa-f:.]+\]):)?([0-9]{1,5})$)");
  std::smatch match;
  if (!std::regex_match(address, match, form) || std::stoi(match[2].str()) > 65535)
    return "expected [host:]port with a port from 0 to 65535, got '" + address + "'";
  return "";
}

[[noreturn]] void exec_under_preload(const RunOptions& options) {
  auto environment = with_preload(current_environment(), find_preload_library(), options.settings);
  std::vector<char*> envp;
  for (auto& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (const auto& arg : options.command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::fflush(nullptr);
  execvpe(argv[0], argv.data(), envp.data());
  // As a shell does: 127 when the command is not there, 126 when it cannot run.
  int error = errno;
  std::fprintf(stderr, "parklock: cannot run '%s': %s\n", argv[0], std::strerror(error));
  std::_Exit(error == ENOENT ? 127 : 126);
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  auto* run = app.add_subcommand("run", "Run a command with parklock's locks (exit status: the command's)");
  run->footer("Form: parklock run [OPTIONS] -- CMD [ARGS...]");
  auto& settings = options->settings;
  run->add_option("--metrics", settings.metrics,
                  "Serve Prometheus metrics on [host:]port (127.0.0.1 unless a host is given)")
      ->check(check_metrics_address, "[HOST:]PORT");
  run->add_option("--report", settings.report, "Print the contention report at exit: stderr or a file");
  run->add_option("--dump", settings.dump, "Write everything recorded, with full stacks, to FILE.json at exit");
  run->add_flag("--observe-only", settings.observe_only,
                "Keep glibc's lock algorithms and only record contention");
  add_stack_options(*run, settings);
  run->add_option("--top", settings.top, "Call-sites exported by name; the rest are summed as \"other\" (default 50)")
      ->check(CLI::PositiveNumber);
  run->add_option("command", options->command, "The command and its arguments, after --")->required();
  run->callback([options] { exec_under_preload(*options); });
}

}  // namespace parklock::launcher
