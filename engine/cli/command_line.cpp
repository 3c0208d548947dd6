#include "engine/cli/command_line.h"

#include <cstdio>

namespace parklock::engine::cli {

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "parklock-engine %s: %s\nRun 'parklock-engine %s --help' for its options.\n",
                 app.get_name().c_str(), e.what(), app.get_name().c_str());
    return 2;
  }
}

}  // namespace parklock::engine::cli
