// parklock: the launcher. `parklock run` preloads libparklock.so into a
// command, `parklock ab` compares a workload without and with it.
//
// Exit status: the command's own for `run`; 2 for a usage mistake (bad
// option, nonsensical combination); 1 when something failed at run time.
#include <cstdio>
#include <exception>

#include "subcommands.h"
#include "usage_error.h"

int main(int argc, char** argv) {
  CLI::App app{"parklock: parking locks and call-site lock contention for unmodified programs"};
  app.set_version_flag("--version", "parklock " PARKLOCK_PROJECT_VERSION);
  // At most one; none is reported after parsing, so that a bad option is
  // named as such rather than as a missing subcommand.
  app.require_subcommand(0, 1);
  parklock::launcher::add_run_command(app);
  parklock::launcher::add_ab_command(app);
  parklock::launcher::add_report_command(app);
  try {
    app.parse(argc, argv);
    if (app.get_subcommands().empty())
      throw parklock::launcher::UsageError("a subcommand is required: run, ab or report (see --help)");
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with status 0; CLI11 prints them and
    // every real parse mistake, which is status 2.
    app.exit(e);
    return e.get_exit_code() == 0 ? 0 : 2;
  } catch (const parklock::launcher::UsageError& e) {
    std::fprintf(stderr, "parklock: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parklock: %s\n", e.what());
    return 1;
  }
  return 0;
}
