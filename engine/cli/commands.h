// The parklock-engine subcommands. Each takes the arguments after its name
// and returns the process exit code; UsageError escapes for main() to print.
#pragma once

#include <memory>
#include <span>

#include "engine/cli/arg_parser.h"
#include "engine/model/model.h"
#include "engine/serving/engine.h"

namespace parklock::engine::cli {

int run_make_weights(std::span<char* const> args);
int run_generate(std::span<char* const> args);
int run_bench(std::span<char* const> args);

// Options shared by generate and bench: where the model comes from and how
// the engine is sized.
std::vector<OptionSpec> model_options();
std::vector<OptionSpec> engine_options();

// --model PATH, or --config NAME with --weights-seed (synthetic, in memory).
std::unique_ptr<Model> load_model(const ParsedArgs& args);
// Human-readable origin of the model, for reports.
std::string model_description(const ParsedArgs& args);
// Also applies --gemm-threads, which is process-wide.
EngineConfig engine_config(const ParsedArgs& args);

}  // namespace parklock::engine::cli
