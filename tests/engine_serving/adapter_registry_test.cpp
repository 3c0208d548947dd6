#include "engine/serving/adapter_registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "engine/model/synthetic_weights.h"
#include "engine_test_util.h"

namespace parklock::engine {
namespace {

using testing::greedy_request;
using testing::prompt_tokens;
using testing::tiny_model;

std::shared_ptr<const LoraAdapter> make_adapter(uint64_t seed) {
  const std::string path = ::testing::TempDir() + "serving_lora_" + std::to_string(seed) +
                           "_" + std::to_string(::getpid()) + ".safetensors";
  LoraSpec spec;
  spec.rank = 4;
  spec.alpha = 32.f;  // strong enough to change greedy outputs
  spec.seed = seed;
  write_synthetic_lora(path, ModelConfig::tiny(), spec);
  auto adapter = LoraAdapter::load(path, ModelConfig::tiny());
  std::filesystem::remove(path);
  return adapter;
}

TEST(AdapterRegistry, AddFindReplaceRemove) {
  AdapterRegistry registry;
  auto a = make_adapter(1), b = make_adapter(2);
  EXPECT_FALSE(registry.find("x"));
  const uint64_t id1 = registry.add("x", a);
  auto found = registry.find("x");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->adapter, a);
  EXPECT_EQ(found->id, id1);
  const uint64_t id2 = registry.add("x", b);  // replace: a new id
  EXPECT_NE(id1, id2);
  EXPECT_EQ(registry.find("x")->adapter, b);
  registry.add("y", a);
  EXPECT_EQ(registry.names(), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(registry.remove("x"));
  EXPECT_FALSE(registry.remove("x"));
  EXPECT_EQ(registry.names(), (std::vector<std::string>{"y"}));
  EXPECT_EQ(found->adapter, a);  // a looked-up copy outlives removal
  EXPECT_THROW(registry.add("", a), std::invalid_argument);
  EXPECT_THROW(registry.add("z", nullptr), std::invalid_argument);
}

TEST(AdapterRegistry, ConcurrentLookupsWhileAddingAndRemoving) {
  AdapterRegistry registry;
  auto a = make_adapter(1);
  std::atomic<bool> stop{false};
  std::atomic<long> hits{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        if (auto r = registry.find("hot")) {
          EXPECT_EQ(r->adapter, a);
          ++hits;
        }
      }
    });
  }
  for (int i = 0; i < 2000; ++i) {
    registry.add("hot", a);
    registry.remove("hot");
  }
  registry.add("hot", a);
  while (hits.load() == 0) std::this_thread::yield();
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_TRUE(registry.find("hot"));
}

// Removing an adapter while sequences use it: they finish with it; new
// requests for it are refused; the prefix cache never mixes adapters.
TEST(AdapterRegistry, RemoveWhileSequencesRun) {
  auto model = tiny_model();
  EngineConfig config;
  config.block_size = 4;
  const Request base = greedy_request(prompt_tokens(16, 2), 40);
  Request with_lora = base;
  with_lora.adapter = "style";

  RequestResult reference;
  {
    Engine engine(*model, config);
    engine.adapters().add("style", make_adapter(3));
    reference = engine.submit(with_lora)->wait();
  }

  Engine engine(*model, config);
  engine.adapters().add("style", make_adapter(3));
  const RequestResult base_result = engine.submit(base)->wait();  // caches the base prefix
  EXPECT_NE(base_result.tokens, reference.tokens) << "the adapter should change the output";

  std::vector<RequestHandle> running;
  for (int i = 0; i < 4; ++i) running.push_back(engine.submit(with_lora));
  TokenEvent e;
  ASSERT_TRUE(running[0]->next(&e));  // it is running now
  EXPECT_TRUE(engine.adapters().remove("style"));
  for (auto& h : running) {
    const RequestResult r = h->wait();
    EXPECT_EQ(r.reason, FinishReason::kLength);
    EXPECT_EQ(r.tokens, reference.tokens);
  }
  const RequestResult refused = engine.submit(with_lora)->wait();
  EXPECT_EQ(refused.reason, FinishReason::kError);
  EXPECT_EQ(engine.stats().kv.free, engine.stats().kv.total);
}

}  // namespace
}  // namespace parklock::engine
