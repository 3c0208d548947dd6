// LoRA in the forward pass: identity when B is zero, W + scale·B·A otherwise,
// and per-sequence adapters within one batch.
#include <gtest/gtest.h>

#include "engine/model/lora_adapter.h"
#include "engine/model/model.h"
#include "engine/model/safetensors.h"
#include "engine/model/synthetic_weights.h"
#include "reference_model.h"
#include "test_util.h"

namespace parklock::engine::testing {
namespace {

std::vector<float> run(Model& model, const std::vector<int32_t>& tokens, const LoraAdapter* adapter) {
  model.allocate_kv({.num_blocks = 8, .block_size = 8});  // fresh cache each run
  SeqState s{.tokens = tokens, .blocks = {3, 1, 6}};
  const SeqStep step = s.next(static_cast<int>(tokens.size()), adapter);
  std::vector<float> logits(model.config().vocab_size);
  model.forward({&step, 1}, logits.data());
  return logits;
}

TEST(Lora, ZeroAdapterChangesNothing) {
  TempDir dir;
  const ModelConfig c = ModelConfig::tiny();
  write_synthetic_lora(dir.file("a.safetensors"), c, {.rank = 4, .zero_b = true});
  const auto adapter = LoraAdapter::load(dir.file("a.safetensors"), c);
  auto model = Model::random(c, 1);
  const auto tokens = random_tokens(12, c.vocab_size, 1);
  EXPECT_EQ(run(*model, tokens, adapter.get()), run(*model, tokens, nullptr));
}

TEST(Lora, MatchesMergedWeightsReference) {
  TempDir dir;
  const ModelConfig c = ModelConfig::tiny();
  const LoraSpec spec{.rank = 4, .alpha = 8.f, .seed = 5};
  write_synthetic_lora(dir.file("a.safetensors"), c, spec);
  const auto adapter = LoraAdapter::load(dir.file("a.safetensors"), c);
  EXPECT_EQ(adapter->rank(), 4);
  EXPECT_FLOAT_EQ(adapter->scale(), 2.f);

  auto model = Model::random(c, 2);
  const SyntheticWeights weights(c, 2);
  const SafetensorsFile lora_file(dir.file("a.safetensors"));
  const ReferenceModel reference(c, weights, {.source = &lora_file, .scale = 2.0});
  const ReferenceModel base_reference(c, weights);
  const auto tokens = random_tokens(15, c.vocab_size, 7);
  const auto with_lora = run(*model, tokens, adapter.get());
  EXPECT_LT(max_rel_diff(with_lora.data(), reference.logits(tokens).back()), 2e-4);
  // And the adapter matters: the base model's logits are far off.
  EXPECT_GT(max_rel_diff(with_lora.data(), base_reference.logits(tokens).back()), 1e-2);
}

TEST(Lora, SubsetOfProjections) {
  TempDir dir;
  const ModelConfig c = ModelConfig::tiny();
  const LoraSpec spec{.rank = 2, .alpha = 2.f, .seed = 9,
                      .targets = {Projection::kV, Projection::kDown}};
  write_synthetic_lora(dir.file("a.safetensors"), c, spec);
  const auto adapter = LoraAdapter::load(dir.file("a.safetensors"), c);
  EXPECT_EQ(adapter->find(0, Projection::kQ), nullptr);
  EXPECT_NE(adapter->find(1, Projection::kDown), nullptr);
  auto model = Model::random(c, 2);
  const SyntheticWeights weights(c, 2);
  const SafetensorsFile lora_file(dir.file("a.safetensors"));
  const ReferenceModel reference(c, weights, {.source = &lora_file, .scale = 1.0});
  const auto tokens = random_tokens(6, c.vocab_size, 4);
  EXPECT_LT(max_rel_diff(run(*model, tokens, adapter.get()).data(), reference.logits(tokens).back()),
            2e-4);
}

// One batch: adapter A, base model, adapter B, adapter A again.
TEST(Lora, MixedAdaptersInOneBatch) {
  TempDir dir;
  const ModelConfig c = ModelConfig::tiny();
  write_synthetic_lora(dir.file("a.safetensors"), c, {.rank = 4, .seed = 1});
  write_synthetic_lora(dir.file("b.safetensors"), c, {.rank = 8, .seed = 2});
  const auto a = LoraAdapter::load(dir.file("a.safetensors"), c);
  const auto b = LoraAdapter::load(dir.file("b.safetensors"), c);
  const LoraAdapter* adapters[] = {a.get(), nullptr, b.get(), a.get()};

  auto model = Model::random(c, 3);
  model->allocate_kv({.num_blocks = 32, .block_size = 8});
  std::vector<SeqState> seqs;
  std::vector<SeqStep> steps;
  for (int i = 0; i < 4; ++i)
    seqs.push_back({.tokens = random_tokens(5 + 3 * i, c.vocab_size, i), .blocks = {i * 4, i * 4 + 1, i * 4 + 2}});
  for (int i = 0; i < 4; ++i) steps.push_back(seqs[i].next(static_cast<int>(seqs[i].tokens.size()), adapters[i]));
  std::vector<float> batch(4 * c.vocab_size);
  model->forward(steps, batch.data());

  auto single = Model::random(c, 3);
  for (int i = 0; i < 4; ++i) {
    const auto alone = run(*single, seqs[i].tokens, adapters[i]);
    for (int v = 0; v < c.vocab_size; ++v)
      ASSERT_NEAR(batch[i * c.vocab_size + v], alone[v], 1e-4f) << "seq " << i;
  }
}

void expect_load_error(const std::string& path, const ModelConfig& c, const std::string& fragment) {
  try {
    LoraAdapter::load(path, c);
    ADD_FAILURE() << "no error, expected: " << fragment;
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(Lora, ClearErrorsOnMismatch) {
  TempDir dir;
  const ModelConfig tiny = ModelConfig::tiny();
  const std::string path = dir.file("a.safetensors");
  ModelConfig narrow = tiny;
  narrow.hidden_size = 32;
  write_synthetic_lora(path, narrow, {.rank = 4});
  expect_load_error(path, tiny, "has shape");  // an adapter for another model

  ModelConfig deep = tiny;
  deep.num_layers = 3;
  write_synthetic_lora(path, deep, {.rank = 4});
  expect_load_error(path, tiny, "layer 2, but the model has 2 layers");

  const std::vector<float> a(4 * 64, 0.f);
  const std::string q = "model.layers.0.self_attn.q_proj";
  write_safetensors(path, std::vector{SafetensorsEntry::of(q + ".lora_A.weight", {4, 64}, a)},
                    {{"lora_alpha", "8"}});
  expect_load_error(path, tiny, "no matching lora_B");

  const std::vector<float> b(64 * 4, 0.f);
  write_safetensors(path,
                    std::vector{SafetensorsEntry::of(q + ".lora_A.weight", {4, 64}, a),
                                SafetensorsEntry::of(q + ".lora_B.weight", {64, 4}, b)});
  expect_load_error(path, tiny, "lacks 'lora_alpha'");

  write_safetensors(path, std::vector{SafetensorsEntry::of("model.layers.0.mlp.fc1.lora_A.weight", {4, 64}, a)},
                    {{"lora_alpha", "8"}});
  expect_load_error(path, tiny, "unexpected tensor");
}

}  // namespace
}  // namespace parklock::engine::testing
