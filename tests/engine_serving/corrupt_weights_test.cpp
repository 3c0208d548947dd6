// Weights full of NaN must not generate silently: the request fails with a
// clear error, and requests that do not touch the bad weights go on.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include "engine/model/llama_layout.h"
#include "engine/model/safetensors.h"
#include "engine/model/synthetic_weights.h"
#include "engine_test_util.h"

namespace parklock::engine::testing {
namespace {

class ScratchDir {
 public:
  ScratchDir() : path_(std::filesystem::temp_directory_path() /
                       ("parklock_corrupt_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string file(const char* name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Rewrites every tensor of `in` as NaN, keeping names, shapes and metadata.
void write_all_nan(const std::string& in, const std::string& out) {
  const SafetensorsFile src(in);
  std::vector<SafetensorsEntry> entries;
  for (const TensorInfo& t : src.tensors())
    entries.push_back({.name = t.name, .shape = t.shape, .fill = [](std::span<float> dst) {
                         std::fill(dst.begin(), dst.end(), std::numeric_limits<float>::quiet_NaN());
                       }});
  write_safetensors(out, entries, src.metadata());
}

TEST(CorruptWeights, NanModelFailsEachRequestClearly) {
  ScratchDir dir;
  write_synthetic_model(dir.file("ok.safetensors"), ModelConfig::tiny(), 1);
  write_all_nan(dir.file("ok.safetensors"), dir.file("nan.safetensors"));
  auto model = Model::load(dir.file("nan.safetensors"));
  Engine engine(*model, EngineConfig{});
  for (int i = 0; i < 2; ++i) {  // and the engine still answers the next one
    const RequestResult r = engine.submit(greedy_request(prompt_tokens(8, i), 4))->wait();
    EXPECT_EQ(r.reason, FinishReason::kError);
    EXPECT_NE(r.error.find("non-finite logits"), std::string::npos) << r.error;
    EXPECT_TRUE(r.tokens.empty());
  }
  EXPECT_EQ(engine.kv_blocks().stats().sequences, 0);
}

TEST(CorruptWeights, NanAdapterFailsOnlyItsRequests) {
  ScratchDir dir;
  const ModelConfig c = ModelConfig::tiny();
  write_synthetic_lora(dir.file("lora.safetensors"), c, LoraSpec{.rank = 4});
  write_all_nan(dir.file("lora.safetensors"), dir.file("nan_lora.safetensors"));
  auto model = tiny_model();
  const RequestResult alone = run_one_by_one(*model, EngineConfig{}, {greedy_request(prompt_tokens(10, 3), 8)})[0];

  Engine engine(*model, EngineConfig{});
  engine.adapters().load("bad", dir.file("nan_lora.safetensors"), c);
  Request bad = greedy_request(prompt_tokens(10, 2), 8);
  bad.adapter = "bad";
  RequestHandle bad_handle = engine.submit(std::move(bad));
  RequestHandle good_handle = engine.submit(greedy_request(prompt_tokens(10, 3), 8));
  const RequestResult b = bad_handle->wait();
  const RequestResult g = good_handle->wait();
  EXPECT_EQ(b.reason, FinishReason::kError);
  EXPECT_NE(b.error.find("non-finite logits"), std::string::npos) << b.error;
  EXPECT_EQ(g.reason, FinishReason::kLength);
  EXPECT_EQ(g.tokens, alone.tokens);
}

}  // namespace
}  // namespace parklock::engine::testing
