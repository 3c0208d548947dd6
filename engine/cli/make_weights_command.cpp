#include <cstdio>

#include "engine/cli/commands.h"
#include "engine/model/synthetic_weights.h"

namespace parklock::engine::cli {

int run_make_weights(int argc, char** argv) {
  CLI::App app(
      "Writes seeded synthetic weights as a safetensors checkpoint, or with --lora\n"
      "a LoRA adapter for that model shape.",
      "make-weights");
  std::string config_name = "tiny";
  uint64_t seed = 1;
  std::string out;
  std::optional<int> lora_rank;
  float lora_alpha = 16.f;
  app.add_option("--config", config_name, "model shape: tiny, small, tinyllama-1.1b")
      ->capture_default_str();
  app.add_option("--seed", seed, "seed of the weights")->capture_default_str();
  app.add_option("--out", out, "output file")->required();
  app.add_option("--lora", lora_rank, "write a LoRA adapter of this rank instead of a model")
      ->check(CLI::Range(1, 4096));
  app.add_option("--lora-alpha", lora_alpha, "LoRA alpha (scale = alpha / rank)")
      ->check(CLI::Range(0.0f, 1e6f))->capture_default_str();
  if (auto rc = parse_command_line(app, argc, argv)) return *rc;

  const ModelConfig config = model_config_by_name(config_name);
  if (lora_rank) {
    LoraSpec lora;
    lora.rank = *lora_rank;
    lora.alpha = lora_alpha;
    lora.seed = seed;
    write_synthetic_lora(out, config, lora);
    std::printf("wrote LoRA adapter (rank %d, alpha %g, seed %llu) for %s to %s\n", lora.rank,
                lora.alpha, static_cast<unsigned long long>(seed), config_name.c_str(),
                out.c_str());
  } else {
    write_synthetic_model(out, config, seed);
    std::printf("wrote %s weights (seed %llu) to %s\n", config_name.c_str(),
                static_cast<unsigned long long>(seed), out.c_str());
  }
  return 0;
}

}  // namespace parklock::engine::cli
