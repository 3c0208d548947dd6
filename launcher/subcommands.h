// The launcher's subcommands. Each one lives in its own <name>_command.cpp
// and registers itself on the top-level app here; main() calls every
// add_*_command in turn, so a new subcommand is one new file and one line.
#pragma once

#include <CLI/CLI.hpp>

namespace parklock::launcher {

// `parklock run [settings] -- CMD ARGS...`: the command under the preload.
void add_run_command(CLI::App& app);

// `parklock ab [options] -- CMD ARGS...` or `--server CMD --load CMD`:
// the workload without and with the preload, alternating, compared.
void add_ab_command(CLI::App& app);

// `parklock report DUMP.json [--top N]`: the exit report of a dump.
void add_report_command(CLI::App& app);

}  // namespace parklock::launcher
