// Shared pieces of the server tests: a scratch directory with the tiny
// model and a LoRA adapter for it, and request shorthands.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "completion_client.h"
#include "engine/model/synthetic_weights.h"
#include "server_process.h"

namespace parklock::engine::testing {

using nlohmann::json;
using loadgen::CompletionClient;
using loadgen::CompletionOutcome;

// Files written once per test program, removed at exit.
struct ModelFiles {
  std::filesystem::path dir;
  std::string model;  // tiny, seed 1
  std::string lora;   // rank 4, seed 3

  static const ModelFiles& get() {
    static const ModelFiles files = [] {
      ModelFiles f;
      f.dir = std::filesystem::temp_directory_path() /
              ("parklock_server_test_" + std::to_string(::getpid()));
      std::filesystem::create_directories(f.dir);
      f.model = (f.dir / "tiny.safetensors").string();
      f.lora = (f.dir / "lora.safetensors").string();
      write_synthetic_model(f.model, ModelConfig::tiny(), 1);
      write_synthetic_lora(f.lora, ModelConfig::tiny(), LoraSpec{.rank = 4, .seed = 3});
      std::atexit([] { std::filesystem::remove_all(get().dir); });
      return f;
    }();
    return files;
  }
};

inline json completion(const std::string& model, const std::string& prompt, int max_tokens,
                       bool stream) {
  return {{"model", model},   {"prompt", prompt}, {"max_tokens", max_tokens},
          {"temperature", 0}, {"stream", stream}, {"ignore_eos", true}};
}

// The metric's value in a Prometheus text scrape (the first sample whose
// name and labels start with `series`), or -1 when absent.
inline double metric_value(const std::string& scrape, const std::string& series) {
  size_t at = 0;
  while ((at = scrape.find(series, at)) != std::string::npos) {
    if (at == 0 || scrape[at - 1] == '\n') {
      const size_t space = scrape.find(' ', at);
      return std::stod(scrape.substr(space + 1));
    }
    at += series.size();
  }
  return -1;
}

}  // namespace parklock::engine::testing
