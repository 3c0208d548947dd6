// `parklock report DUMP.json [--top N]`: the exit-report table of a dump
// (PARKLOCK_DUMP, `parklock run --dump`), rendered by the same code as the
// exit report itself (exporter/report_table.h).
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "report_table.h"
#include "subcommands.h"
#include "usage_error.h"

namespace parklock::launcher {
namespace {

struct ReportOptions {
  std::string dump;
  int top = 20;
};

void print_report(const ReportOptions& options) {
  std::ifstream in(options.dump);
  if (!in) throw std::runtime_error("cannot read " + options.dump);
  nlohmann::json dump;
  try {
    in >> dump;
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(options.dump + " is not JSON: " + e.what());
  }
  try {
    std::fputs(render_report(dump, options.top).c_str(), stdout);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(options.dump + " is not a parklock dump: " + e.what());
  }
}

}  // namespace

void add_report_command(CLI::App& app) {
  auto options = std::make_shared<ReportOptions>();
  CLI::App* report = app.add_subcommand("report", "Print the contention report of a dump (PARKLOCK_DUMP)");
  report->add_option("dump", options->dump, "A dump written by PARKLOCK_DUMP or `parklock run --dump`")->required();
  report->add_option("--top", options->top, "Rows: the call-sites with the most total wait")
      ->check(CLI::Range(1, 100000));
  report->callback([options] { print_report(*options); });
}

}  // namespace parklock::launcher
