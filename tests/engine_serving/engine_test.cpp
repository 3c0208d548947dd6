#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "engine/serving/output_reader.h"
#include "engine_test_util.h"

namespace parklock::engine {
namespace {

using testing::greedy_request;
using testing::prompt_tokens;
using testing::run_one_by_one;
using testing::seeded_request;
using testing::tiny_model;

EngineConfig small_config() {
  EngineConfig c;
  c.block_size = 8;
  c.num_kv_blocks = 512;
  c.scheduler.max_batch_tokens = 64;  // small, so long prompts are chunked
  c.scheduler.max_running = 32;
  return c;
}

// How many of `tokens`, decoded as they stream, first show `stop` (the
// number of tokens a stop string lets through); tokens.size() + 1 if none.
size_t tokens_until(const ByteTokenizer& tokenizer, const std::vector<int32_t>& tokens,
                    const std::string& stop) {
  Utf8StreamDecoder decoder(tokenizer);
  std::string text;
  for (size_t i = 0; i < tokens.size(); ++i) {
    text += decoder.push(tokens[i]);
    if (text.find(stop) != std::string::npos) return i + 1;
  }
  return tokens.size() + 1;
}

TEST(Engine, GreedyGenerationIsDeterministic) {
  auto model = tiny_model();
  const Request r = greedy_request(prompt_tokens(20, 1), 24);
  const auto a = run_one_by_one(*model, small_config(), {r, r});
  const auto b = run_one_by_one(*model, small_config(), {r});
  ASSERT_EQ(a[0].reason, FinishReason::kLength);
  EXPECT_EQ(a[0].tokens.size(), 24u);
  EXPECT_EQ(a[0].tokens, a[1].tokens);
  EXPECT_EQ(a[0].tokens, b[0].tokens);
  // The second run of the same prompt found its full blocks cached.
  EXPECT_EQ(a[0].cached_prompt_tokens, 0);
  EXPECT_EQ(a[1].cached_prompt_tokens, 16);
}

TEST(Engine, BatchedResultsEqualUnbatchedOnes) {
  auto model = tiny_model();
  std::vector<Request> requests;
  for (int i = 0; i < 16; ++i) {
    auto prompt = prompt_tokens(5 + 11 * i, i);  // up to 170 tokens: chunked prefill
    requests.push_back(i % 2 ? seeded_request(prompt, 20, 100 + i) : greedy_request(prompt, 20));
  }
  const auto alone = run_one_by_one(*model, small_config(), requests);

  Engine engine(*model, small_config());
  std::vector<RequestResult> together(requests.size());
  std::vector<std::thread> clients;
  for (size_t i = 0; i < requests.size(); ++i)
    clients.emplace_back([&, i] { together[i] = engine.submit(requests[i])->wait(); });
  for (auto& t : clients) t.join();
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(together[i].reason, FinishReason::kLength) << i;
    EXPECT_EQ(together[i].tokens, alone[i].tokens) << "request " << i;
  }
  EXPECT_EQ(engine.stats().kv.free, engine.stats().kv.total);
}

TEST(Engine, StreamedEventsMatchTheResult) {
  auto model = tiny_model();
  Engine engine(*model, small_config());
  Request r = greedy_request(prompt_tokens(12, 3), 30);
  std::vector<int32_t> callback_tokens;
  r.on_token = [&](const TokenEvent& e) { callback_tokens.push_back(e.token); };
  auto handle = engine.submit(r);
  std::vector<int32_t> tokens;
  TokenEvent e;
  while (handle->next(&e)) tokens.push_back(e.token);
  const RequestResult result = handle->wait();
  EXPECT_EQ(tokens, result.tokens);
  EXPECT_EQ(callback_tokens, result.tokens);
  EXPECT_TRUE(result.text.empty()) << "text is the consumer's (OutputReader)";
  EXPECT_GE(result.first_token_time, result.submit_time);
  EXPECT_GE(result.finish_time, result.first_token_time);
}

TEST(OutputReader, StreamedTextMatchesTheResult) {
  auto model = tiny_model();
  Engine engine(*model, small_config());
  const Request r = greedy_request(prompt_tokens(12, 3), 30);
  const RequestResult engine_only = engine.submit(r)->wait();
  OutputReader reader(engine, r);
  std::vector<int32_t> tokens;
  std::string text;
  OutputEvent e;
  while (reader.next(&e)) {
    if (e.token != kNoToken) tokens.push_back(e.token);
    text += e.text;
  }
  const RequestResult result = reader.finish();
  EXPECT_EQ(result.reason, FinishReason::kLength);
  EXPECT_EQ(tokens, result.tokens);
  EXPECT_EQ(result.tokens, engine_only.tokens);
  EXPECT_EQ(text, result.text);
  EXPECT_FALSE(result.text.empty());
}

TEST(OutputReader, StopStringEndsTheOutputBeforeIt) {
  auto model = tiny_model();
  Engine engine(*model, small_config());
  const Request plain = greedy_request(prompt_tokens(10, 4), 40);
  const RequestResult full = OutputReader(engine, plain).finish();
  ASSERT_GE(full.text.size(), 12u);
  // Stop at a piece of the greedy output: the run ends right before its
  // first occurrence.
  const std::string stop = full.text.substr(8, 3);
  Request stopped = plain;
  stopped.sampling.stop = {stop};
  OutputReader reader(engine, stopped);
  std::string streamed;
  OutputEvent e;
  while (reader.next(&e)) streamed += e.text;
  const RequestResult r = reader.finish();
  EXPECT_EQ(r.reason, FinishReason::kStop);
  EXPECT_EQ(r.text, full.text.substr(0, full.text.find(stop)));
  EXPECT_EQ(streamed, r.text);
  // The tokens end with the one that completed the stop string, whatever the
  // engine generated before the cancel reached it.
  ASSERT_LT(r.tokens.size(), full.tokens.size());
  EXPECT_EQ(r.tokens, std::vector<int32_t>(full.tokens.begin(), full.tokens.begin() + r.tokens.size()));
  EXPECT_EQ(tokens_until(engine.tokenizer(), full.tokens, stop), r.tokens.size());
  // finish() returned after the engine dropped the cancelled sequence.
  EXPECT_EQ(engine.stats().kv.free, engine.stats().kv.total);
  EXPECT_EQ(engine.stats().running, 0);
}

TEST(OutputReader, StopStringCompletedByTheLastAllowedTokenIsAStop) {
  // The engine ends the request for its length at the very token that
  // completes the stop string: the reader reports the stop.
  auto model = tiny_model();
  Engine engine(*model, small_config());
  const Request plain = greedy_request(prompt_tokens(10, 4), 40);
  const RequestResult full = OutputReader(engine, plain).finish();
  const std::string stop = full.text.substr(8, 3);
  const size_t ends_at = tokens_until(engine.tokenizer(), full.tokens, stop);
  ASSERT_LT(ends_at, full.tokens.size());
  Request stopped = plain;
  stopped.sampling.stop = {stop};
  stopped.sampling.max_tokens = static_cast<int>(ends_at);
  const RequestResult r = OutputReader(engine, stopped).finish();
  EXPECT_EQ(r.reason, FinishReason::kStop);
  EXPECT_EQ(r.tokens.size(), ends_at);
  EXPECT_EQ(r.text, full.text.substr(0, full.text.find(stop)));
}

TEST(Engine, MaxTokensAndEos) {
  auto model = tiny_model();
  Engine engine(*model, small_config());
  Request r = greedy_request(prompt_tokens(10, 5), 7);
  EXPECT_EQ(engine.submit(r)->wait().tokens.size(), 7u);
  // With EOS honoured the output never contains it, whatever the length.
  r.sampling.ignore_eos = false;
  r.sampling.max_tokens = 200;
  const RequestResult res = engine.submit(r)->wait();
  for (int32_t t : res.tokens) EXPECT_NE(t, ByteTokenizer::kEos);
  if (res.reason == FinishReason::kLength) EXPECT_EQ(res.tokens.size(), 200u);
  else EXPECT_EQ(res.reason, FinishReason::kStop);
}

TEST(Engine, InvalidRequestsFinishWithAnError) {
  auto model = tiny_model();
  Engine engine(*model, small_config());
  auto expect_error = [&](Request r, const std::string& fragment) {
    const RequestResult res = engine.submit(std::move(r))->wait();
    EXPECT_EQ(res.reason, FinishReason::kError);
    EXPECT_NE(res.error.find(fragment), std::string::npos) << res.error;
  };
  expect_error(greedy_request({}, 4), "empty");
  expect_error(greedy_request({1, 5000}, 4), "vocabulary");
  expect_error(greedy_request(prompt_tokens(10, 1), 0), "max_tokens");
  expect_error(greedy_request(prompt_tokens(1000, 1), 100), "context");
  Request bad_p = greedy_request(prompt_tokens(10, 1), 4);
  bad_p.sampling.top_p = 0.0f;
  expect_error(bad_p, "top_p");
  Request bad_adapter = greedy_request(prompt_tokens(10, 1), 4);
  bad_adapter.adapter = "nope";
  expect_error(bad_adapter, "unknown adapter");
  EngineConfig tiny_pool = small_config();
  tiny_pool.num_kv_blocks = 4;
  Engine small(*model, tiny_pool);
  const RequestResult res = small.submit(greedy_request(prompt_tokens(30, 1), 10))->wait();
  EXPECT_EQ(res.reason, FinishReason::kError);
  EXPECT_NE(res.error.find("KV blocks"), std::string::npos) << res.error;
}

// Many client threads submit at once and cancel some requests at random
// moments: every request ends, and no KV block is left behind.
TEST(Engine, ConcurrentSubmittersWithRandomCancellation) {
  constexpr int kThreads = 16, kPerThread = 20;
  auto model = tiny_model();
  EngineConfig config = small_config();
  config.num_kv_blocks = 160;  // tight enough that preemption happens too
  Engine engine(*model, config);
  std::atomic<int> finished{0}, cancelled{0}, completed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < kPerThread; ++i) {
        Request r = greedy_request(prompt_tokens(4 + static_cast<int>(rng() % 40), rng() % 8),
                                   1 + static_cast<int>(rng() % 24));
        auto handle = engine.submit(r);
        const int mode = static_cast<int>(rng() % 4);
        if (mode == 0) {
          engine.cancel(handle);  // at once, probably still queued
        } else if (mode == 1) {
          TokenEvent e;
          const int after = static_cast<int>(rng() % 4);
          for (int k = 0; k < after && handle->next(&e); ++k) {
          }
          engine.cancel(handle);  // mid-stream
        }
        const RequestResult res = handle->wait();
        EXPECT_TRUE(res.reason == FinishReason::kLength || res.reason == FinishReason::kCancelled)
            << finish_reason_name(res.reason) << " " << res.error;
        if (res.reason == FinishReason::kCancelled) ++cancelled;
        if (res.reason == FinishReason::kLength) {
          EXPECT_EQ(static_cast<int>(res.tokens.size()), r.sampling.max_tokens);
          ++completed;
        }
        ++finished;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(finished.load(), kThreads * kPerThread);
  EXPECT_GT(cancelled.load(), 0);
  EXPECT_GT(completed.load(), 0);
  const EngineStats s = engine.stats();
  EXPECT_EQ(s.kv.free, s.kv.total);
  EXPECT_EQ(s.kv.sequences, 0);
  EXPECT_EQ(s.running + s.waiting, 0);
  EXPECT_EQ(engine.kv_blocks().check_invariants(), "");
}

TEST(Engine, DestructionCancelsOutstandingRequests) {
  auto model = tiny_model();
  std::vector<RequestHandle> handles;
  {
    Engine engine(*model, small_config());
    for (int i = 0; i < 8; ++i)
      handles.push_back(engine.submit(greedy_request(prompt_tokens(30, i), 500)));
  }
  for (auto& h : handles) {
    const RequestResult r = h->wait();
    EXPECT_TRUE(r.reason == FinishReason::kCancelled || r.reason == FinishReason::kLength);
  }
}

}  // namespace
}  // namespace parklock::engine
