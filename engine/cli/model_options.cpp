#include <cstdio>

#include "engine/cli/commands.h"
#include "kernels/cpu/gemm.h"

namespace parklock::engine::cli {

void add_model_source_options(CLI::App& app, ModelSource& source) {
  auto* model = app.add_option("--model", source.path,
                               "safetensors checkpoint (from make-weights or converted)");
  auto* config = app.add_option(
      "--config", source.config,
      "instead of --model: synthetic weights of this shape (tiny, small, tinyllama-1.1b)");
  model->excludes(config);
  app.add_option("--weights-seed", source.weights_seed, "seed of the synthetic weights with --config")
      ->capture_default_str();
}

ModelConfig model_config_by_name(const std::string& name) {
  try {
    return ModelConfig::by_name(name);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

std::unique_ptr<ModelBackend> load_model(const ModelSource& source, Device device) {
  if (source.path.empty() == source.config.empty())
    throw UsageError("give exactly one of --model PATH or --config NAME");
  if (!source.path.empty()) return make_backend(device, LoadedModel::from_checkpoint(source.path));
  return make_backend(device, LoadedModel::synthetic(model_config_by_name(source.config), source.weights_seed));
}

std::string model_description(const ModelSource& source) {
  if (!source.path.empty()) return source.path;
  return source.config + " (synthetic, seed " + std::to_string(source.weights_seed) + ")";
}

void add_engine_options(CLI::App& app, EngineOptions& o) {
  app.add_option("--device", o.device,
                 "backend: auto (the GPU when CUDA support is built in and a device is usable, "
                 "else the CPU), cuda or cpu")
      ->check(CLI::IsMember({"auto", "cuda", "cpu"}))
      ->capture_default_str();
  app.add_option("--block-size", o.block_size, "token positions per KV block")
      ->check(CLI::Range(1, 4096))->capture_default_str();
  app.add_option("--kv-blocks", o.kv_blocks, "KV blocks in the pool")
      ->check(CLI::Range(1, 1 << 24))->capture_default_str();
  app.add_option("--max-batch-tokens", o.max_batch_tokens, "token budget of one engine step")
      ->check(CLI::Range(1, 1 << 20))->capture_default_str();
  app.add_option("--max-running", o.max_running, "sequences in the running batch")
      ->check(CLI::Range(1, 1 << 16))->capture_default_str();
  app.add_option("--threads", o.threads,
                 "CPU backend: compute threads of each forward pass (per-layer barriers between them)")
      ->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--gemm-threads", o.gemm_threads,
                 "OpenBLAS threads per GEMM (default: 1 with --threads > 1, else OpenBLAS's choice)")
      ->check(CLI::Range(1, 1024));
}

EngineConfig engine_config(const EngineOptions& o) {
  EngineConfig c;
  c.block_size = o.block_size;
  c.num_kv_blocks = o.kv_blocks;
  c.scheduler.max_batch_tokens = o.max_batch_tokens;
  c.scheduler.max_running = o.max_running;
  c.compute_threads = o.threads;
  // Process-wide, so applied here rather than carried in EngineConfig. The
  // compute pool already splits each GEMM; OpenBLAS threads on top of it
  // would only compete for the same cores.
  if (o.gemm_threads)
    kernels::cpu::set_gemm_threads(*o.gemm_threads);
  else if (o.threads > 1)
    kernels::cpu::set_gemm_threads(1);
  return c;
}

Device resolve_device(const CLI::App& app, const std::string& requested) {
  DeviceChoice choice;
  try {
    choice = choose_device(device_from_name(requested));
  } catch (const DeviceUnavailable& e) {
    throw UsageError(e.what());
  }
  std::fprintf(stderr, "parklock-engine %s: device %s (%s)\n", app.get_name().c_str(),
               device_name(choice.device), choice.reason.c_str());
  return choice.device;
}

}  // namespace parklock::engine::cli
