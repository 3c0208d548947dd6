#include <cstdio>
#include <limits>

#include "engine/cli/commands.h"
#include "engine/model/synthetic_weights.h"

namespace parklock::engine::cli {
namespace {

const CommandSpec& spec() {
  static const CommandSpec s{
      "make-weights",
      "Writes seeded synthetic weights as a safetensors checkpoint, or with --lora\n"
      "a LoRA adapter for that model shape.",
      {
          {"config", "NAME", "model shape: tiny, small, tinyllama-1.1b", "tiny", false},
          {"seed", "N", "seed of the weights", "1", false},
          {"out", "PATH", "output file", "", false},
          {"lora", "RANK", "write a LoRA adapter of this rank instead of a model", "", false},
          {"lora-alpha", "A", "LoRA alpha (scale = alpha / rank)", "16", false},
      }};
  return s;
}

}  // namespace

int run_make_weights(std::span<char* const> argv) {
  const ParsedArgs args = parse_args(spec(), argv);
  if (args.flag("help")) {
    std::fputs(usage(spec()).c_str(), stdout);
    return 0;
  }
  ModelConfig config;
  try {
    config = ModelConfig::by_name(args.str("config"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  const auto seed = static_cast<uint64_t>(args.integer("seed", 0, std::numeric_limits<int64_t>::max()));
  const std::string out = args.str("out");
  if (args.has("lora")) {
    LoraSpec lora;
    lora.rank = static_cast<int>(args.integer("lora", 1, 4096));
    lora.alpha = static_cast<float>(args.real("lora-alpha", 0.0, 1e6));
    lora.seed = seed;
    write_synthetic_lora(out, config, lora);
    std::printf("wrote LoRA adapter (rank %d, alpha %g, seed %llu) for %s to %s\n", lora.rank,
                lora.alpha, static_cast<unsigned long long>(seed), args.str("config").c_str(),
                out.c_str());
  } else {
    write_synthetic_model(out, config, seed);
    std::printf("wrote %s weights (seed %llu) to %s\n", args.str("config").c_str(),
                static_cast<unsigned long long>(seed), out.c_str());
  }
  return 0;
}

}  // namespace parklock::engine::cli
