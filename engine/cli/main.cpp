// parklock-engine: the bundled inference engine's command-line front end.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "engine/cli/commands.h"

namespace {

constexpr const char* kUsage =
    "usage: parklock-engine <command> [options]\n"
    "\n"
    "commands:\n"
    "  make-weights  write seeded synthetic weights (or a LoRA adapter) as safetensors\n"
    "  generate      generate text for one prompt, streaming it to stdout\n"
    "  bench         many concurrent in-process clients; throughput and latency\n"
    "  serve         OpenAI-compatible HTTP server (completions, chat, SSE, /metrics)\n"
    "\n"
    "Run 'parklock-engine <command> --help' for a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace parklock::engine::cli;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  // Each command parses its own options, with its name as argv[0].
  const int sub_argc = argc - 1;
  char** sub_argv = argv + 1;
  try {
    if (command == "make-weights") return run_make_weights(sub_argc, sub_argv);
    if (command == "generate") return run_generate(sub_argc, sub_argv);
    if (command == "bench") return run_bench(sub_argc, sub_argv);
    if (command == "serve") return run_serve(sub_argc, sub_argv);
    std::fprintf(stderr, "parklock-engine: unknown command '%s'\n\n%s", command.c_str(), kUsage);
    return 2;
  } catch (const UsageError& e) {
    std::fprintf(stderr,
                 "parklock-engine %s: %s\nRun 'parklock-engine %s --help' for its options.\n",
                 command.c_str(), e.what(), command.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parklock-engine %s: error: %s\n", command.c_str(), e.what());
    return 1;
  }
}
