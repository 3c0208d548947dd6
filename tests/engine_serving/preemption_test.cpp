#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "engine_test_util.h"

namespace parklock::engine {
namespace {

using testing::greedy_request;
using testing::prompt_tokens;
using testing::run_one_by_one;
using testing::seeded_request;
using testing::tiny_model;

// A KV pool far too small for the offered load: sequences are evicted and
// recomputed, and still produce exactly what they produce alone.
TEST(Preemption, ResultsEqualUnpreemptedOnes) {
  auto model = tiny_model();
  std::vector<Request> requests;
  for (int i = 0; i < 12; ++i) {
    auto prompt = prompt_tokens(10 + 3 * i, 50 + i);
    requests.push_back(i % 3 ? greedy_request(prompt, 48) : seeded_request(prompt, 48, 7 + i));
  }
  EngineConfig roomy;
  roomy.block_size = 4;
  roomy.num_kv_blocks = 1024;
  const auto alone = run_one_by_one(*model, roomy, requests);

  EngineConfig tight = roomy;
  tight.num_kv_blocks = 40;  // each request alone needs up to 24 blocks
  tight.scheduler.watermark_blocks = 0;
  Engine engine(*model, tight);
  std::vector<RequestHandle> handles;
  for (const auto& r : requests) handles.push_back(engine.submit(r));
  int preempted_requests = 0;
  for (size_t i = 0; i < handles.size(); ++i) {
    const RequestResult r = handles[i]->wait();
    ASSERT_EQ(r.reason, FinishReason::kLength) << r.error;
    EXPECT_EQ(r.tokens, alone[i].tokens) << "request " << i;
    preempted_requests += r.preemptions > 0;
  }
  EXPECT_GT(preempted_requests, 0);
  const EngineStats s = engine.stats();
  EXPECT_GT(s.preemptions, 0u);
  EXPECT_EQ(s.kv.free, s.kv.total);
  EXPECT_EQ(engine.kv_blocks().check_invariants(), "");
}

// A single request that needs the whole pool still runs (the admission
// watermark is waived when nothing else runs).
TEST(Preemption, RequestFillingThePoolCompletes) {
  auto model = tiny_model();
  EngineConfig config;
  config.block_size = 4;
  config.num_kv_blocks = 10;
  config.scheduler.watermark_blocks = 3;
  Engine engine(*model, config);
  const RequestResult r = engine.submit(greedy_request(prompt_tokens(12, 9), 28))->wait();
  EXPECT_EQ(r.reason, FinishReason::kLength) << r.error;
  EXPECT_EQ(r.tokens.size(), 28u);
}

}  // namespace
}  // namespace parklock::engine
