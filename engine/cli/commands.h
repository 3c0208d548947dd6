// The parklock-engine subcommands and the option groups they share.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "engine/cli/command_line.h"
#include "engine/model/backend_select.h"
#include "engine/serving/engine.h"
#include "engine/serving/output_reader.h"

namespace parklock::engine::cli {

// argv[0] is the subcommand's name.
int run_make_weights(int argc, char** argv);
int run_generate(int argc, char** argv);
int run_bench(int argc, char** argv);
int run_serve(int argc, char** argv);

// Where one model comes from: a checkpoint, or seeded synthetic weights.
struct ModelSource {
  std::string path;    // --model PATH
  std::string config;  // --config NAME (synthetic)
  uint64_t weights_seed = 1;
};
void add_model_source_options(CLI::App& app, ModelSource& source);
// The model on the backend of `device` (resolved: kCpu or kCuda). Throws
// UsageError unless exactly one of path and config is set.
std::unique_ptr<ModelBackend> load_model(const ModelSource& source, Device device);
std::string model_description(const ModelSource& source);
// Throws UsageError for an unknown shape name.
ModelConfig model_config_by_name(const std::string& name);

// What each engine computes on and how it is sized.
struct EngineOptions {
  std::string device = "auto";       // --device auto|cuda|cpu
  int block_size = 16;
  int kv_blocks = 2048;
  int max_batch_tokens = 256;
  int max_running = 64;
  int threads = 1;                   // compute pool threads per forward pass
  std::optional<int> gemm_threads;   // OpenBLAS threads (process-wide)
};
void add_engine_options(CLI::App& app, EngineOptions& options);
// Also applies the process-wide GEMM thread count.
EngineConfig engine_config(const EngineOptions& options);
// Resolves --device (once per command, before any weights are read) and
// prints the choice on stderr in one line. Throws UsageError (exit 2) when
// --device cuda cannot be honoured.
Device resolve_device(const CLI::App& app, const std::string& requested);

}  // namespace parklock::engine::cli
