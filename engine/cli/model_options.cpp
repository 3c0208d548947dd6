#include <limits>

#include "engine/cli/commands.h"
#include "kernels/cpu/gemm.h"

namespace parklock::engine::cli {

std::vector<OptionSpec> model_options() {
  return {
      {"model", "PATH", "safetensors checkpoint (from make-weights or converted)", "", false},
      {"config", "NAME", "instead of --model: synthetic weights of this shape (tiny, small, tinyllama-1.1b)", "", false},
      {"weights-seed", "N", "seed of the synthetic weights with --config", "1", false},
  };
}

std::vector<OptionSpec> engine_options() {
  return {
      {"block-size", "N", "token positions per KV block", "16", false},
      {"kv-blocks", "N", "KV blocks in the pool", "2048", false},
      {"max-batch-tokens", "N", "token budget of one engine step", "256", false},
      {"max-running", "N", "sequences in the running batch", "64", false},
      {"gemm-threads", "N", "OpenBLAS threads for the GEMMs (default: OpenBLAS's own choice)", "", false},
  };
}

std::unique_ptr<Model> load_model(const ParsedArgs& args) {
  if (args.has("model") == args.has("config"))
    throw UsageError("give exactly one of --model PATH or --config NAME");
  if (args.has("model")) return Model::load(args.str("model"));
  ModelConfig config;
  try {
    config = ModelConfig::by_name(args.str("config"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  const auto seed = args.integer("weights-seed", 0, std::numeric_limits<int64_t>::max());
  return Model::random(config, static_cast<uint64_t>(seed));
}

std::string model_description(const ParsedArgs& args) {
  if (args.has("model")) return args.str("model");
  return args.str("config") + " (synthetic, seed " + args.str("weights-seed") + ")";
}

EngineConfig engine_config(const ParsedArgs& args) {
  EngineConfig c;
  c.block_size = static_cast<int>(args.integer("block-size", 1, 4096));
  c.num_kv_blocks = static_cast<int>(args.integer("kv-blocks", 1, 1 << 24));
  c.scheduler.max_batch_tokens = static_cast<int>(args.integer("max-batch-tokens", 1, 1 << 20));
  c.scheduler.max_running = static_cast<int>(args.integer("max-running", 1, 1 << 16));
  // Process-wide, so applied here rather than carried in EngineConfig.
  if (args.has("gemm-threads"))
    kernels::cpu::set_gemm_threads(static_cast<int>(args.integer("gemm-threads", 1, 1024)));
  return c;
}

}  // namespace parklock::engine::cli
