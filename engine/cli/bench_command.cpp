#include <chrono>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/cli/commands.h"
#include "engine/cli/latency_summary.h"
#include "engine/model/strict_json.h"

namespace parklock::engine::cli {
namespace {

using Ms = std::chrono::duration<double, std::milli>;

struct BenchParams {
  int clients = 8;
  int requests = 64;
  int prompt_len = 64;
  int shared_prefix = 0;
  int max_tokens = 32;
  float temperature = 0;
  uint64_t seed = 1;
};

// What one client thread measured; merged after the run.
struct ClientLog {
  std::vector<double> ttft_ms;
  std::vector<double> itl_ms;
  std::vector<double> e2e_ms;
  long output_tokens = 0;
  int by_reason[4] = {0, 0, 0, 0};  // indexed by FinishReason
  std::string first_error;
};

std::vector<int32_t> make_prompt(const BenchParams& p, int request_index) {
  std::vector<int32_t> prompt{ByteTokenizer::kBos};
  std::mt19937_64 shared(p.seed);
  std::mt19937_64 own(p.seed * 1000003u + static_cast<uint64_t>(request_index) + 1);
  while (static_cast<int>(prompt.size()) < p.prompt_len) {
    auto& rng = static_cast<int>(prompt.size()) < p.shared_prefix ? shared : own;
    // Printable ASCII bytes, so prompts look like text in traces.
    prompt.push_back(ByteTokenizer::kFirstByte + 32 + static_cast<int32_t>(rng() % 95));
  }
  return prompt;
}

void run_client(Engine& engine, const BenchParams& p, int client, ClientLog* log) {
  for (int i = client; i < p.requests; i += p.clients) {
    Request r;
    r.prompt = make_prompt(p, i);
    r.sampling.max_tokens = p.max_tokens;
    r.sampling.temperature = p.temperature;
    r.sampling.seed = p.seed + static_cast<uint64_t>(i);
    r.sampling.ignore_eos = true;  // every request does the same work
    const auto start = Clock::now();
    OutputReader reader(engine, std::move(r));
    OutputEvent event;
    Clock::time_point prev{};
    while (reader.next(&event)) {
      if (event.token == kNoToken) continue;
      const auto now = Clock::now();  // as the client sees it, wakeup included
      if (prev == Clock::time_point{})
        log->ttft_ms.push_back(Ms(now - start).count());
      else
        log->itl_ms.push_back(Ms(now - prev).count());
      prev = now;
    }
    const RequestResult result = reader.finish();
    log->e2e_ms.push_back(Ms(Clock::now() - start).count());
    log->output_tokens += static_cast<long>(result.tokens.size());
    ++log->by_reason[static_cast<int>(result.reason)];
    if (result.reason == FinishReason::kError && log->first_error.empty())
      log->first_error = result.error;
  }
}

Json json_summary(const LatencySummary& s) {
  return {{"count", s.count}, {"mean", s.mean}, {"p50", s.p50}, {"p99", s.p99}, {"max", s.max}};
}

}  // namespace

int run_bench(int argc, char** argv) {
  CLI::App app(
      "Closed-loop load test: N in-process client threads each submit a request,\n"
      "stream its tokens, and submit the next, until M requests are done. Reports\n"
      "throughput and client-observed latency (time to first token, inter-token).",
      "bench");
  ModelSource source;
  EngineOptions engine_options;
  BenchParams p;
  bool json = false;
  add_model_source_options(app, source);
  add_engine_options(app, engine_options);
  app.add_option("--clients", p.clients, "concurrent client threads")
      ->check(CLI::Range(1, 4096))->capture_default_str();
  app.add_option("--requests", p.requests, "requests in total")
      ->check(CLI::Range(1, 10'000'000))->capture_default_str();
  app.add_option("--prompt-len", p.prompt_len, "prompt tokens per request (BOS included)")
      ->check(CLI::Range(1, 1 << 20))->capture_default_str();
  app.add_option("--shared-prefix", p.shared_prefix, "leading prompt tokens common to all requests")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--max-tokens", p.max_tokens, "output tokens per request (EOS ignored)")
      ->check(CLI::Range(1, 1 << 20))->capture_default_str();
  app.add_option("--temperature", p.temperature, "0 = greedy")
      ->check(CLI::Range(0.0f, 100.0f))->capture_default_str();
  app.add_option("--seed", p.seed, "seed of prompts and sampling")->capture_default_str();
  app.add_flag("--json", json, "print one JSON object instead of the table");
  if (auto rc = parse_command_line(app, argc, argv)) return *rc;
  if (p.shared_prefix > p.prompt_len)
    throw UsageError("--shared-prefix " + std::to_string(p.shared_prefix) +
                     " is longer than --prompt-len " + std::to_string(p.prompt_len));
  const EngineConfig config = engine_config(engine_options);

  auto model = load_model(source, resolve_device(app, engine_options.device));
  Engine engine(*model, config);
  std::vector<ClientLog> logs(p.clients);
  std::vector<std::thread> clients;
  const auto start = Clock::now();
  for (int c = 0; c < p.clients; ++c)
    clients.emplace_back(run_client, std::ref(engine), std::cref(p), c, &logs[c]);
  for (auto& t : clients) t.join();
  const double wall_s = std::chrono::duration<double>(Clock::now() - start).count();

  ClientLog all;
  for (auto& l : logs) {
    all.ttft_ms.insert(all.ttft_ms.end(), l.ttft_ms.begin(), l.ttft_ms.end());
    all.itl_ms.insert(all.itl_ms.end(), l.itl_ms.begin(), l.itl_ms.end());
    all.e2e_ms.insert(all.e2e_ms.end(), l.e2e_ms.begin(), l.e2e_ms.end());
    all.output_tokens += l.output_tokens;
    for (int r = 0; r < 4; ++r) all.by_reason[r] += l.by_reason[r];
    if (all.first_error.empty()) all.first_error = l.first_error;
  }
  const LatencySummary ttft = summarize(all.ttft_ms);
  const LatencySummary itl = summarize(all.itl_ms);
  const LatencySummary e2e = summarize(all.e2e_ms);
  const EngineStats st = engine.stats();
  
  const double tok_per_s = static_cast<double>(all.output_tokens) / wall_s;
  const double tokens_per_step =
      st.steps ? static_cast<double>(st.computed_tokens) / static_cast<double>(st.steps) : 0.0;
  const int errors = all.by_reason[static_cast<int>(FinishReason::kError)];
  const double req_per_s = (p.requests - errors) / wall_s;

  const int completed = p.requests - errors;
  if (completed == 0) {
    // Nothing ran: a throughput table would only report the rejections.
    std::fprintf(stderr, "parklock-engine bench: all %d requests failed; first error: %s\n",
                 p.requests, all.first_error.c_str());
    return 1;
  }
  if (json) {
    const Json out = {
        {"model", model_description(source)},
        {"device", engine.backend_name()},
        {"clients", p.clients},
        {"requests", p.requests},
        {"prompt_len", p.prompt_len},
        {"shared_prefix", p.shared_prefix},
        {"max_tokens", p.max_tokens},
        {"temperature", p.temperature},
        {"block_size", config.block_size},
        {"kv_blocks", config.num_kv_blocks},
        {"max_batch_tokens", config.scheduler.max_batch_tokens},
        {"max_running", config.scheduler.max_running},
        {"threads", config.compute_threads},
        {"wall_s", wall_s},
        {"requests_per_s", req_per_s},
        {"output_tokens_per_s", tok_per_s},
        {"output_tokens", all.output_tokens},
        {"errors", errors},
        {"ttft_ms", json_summary(ttft)},
        {"itl_ms", json_summary(itl)},
        {"e2e_ms", json_summary(e2e)},
        {"engine",
         {{"steps", st.steps},
          {"tokens_per_step", tokens_per_step},
          {"preemptions", st.preemptions},
          {"prefix_hit_blocks", st.kv.prefix_hit_blocks},
          {"cow_copies", st.kv.copies}}},
    };
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("parklock-engine bench\n");
    std::printf("  model    %s (%s)\n", model_description(source).c_str(),
                std::string(engine.backend_name()).c_str());
    std::printf("  load     %d clients, %d requests, prompt %d tokens (%d shared), %d output tokens, %s\n",
                p.clients, p.requests, p.prompt_len, p.shared_prefix, p.max_tokens,
                p.temperature > 0 ? "sampled" : "greedy");
    std::printf("  engine   block %d, %d KV blocks, %d tokens/step budget, %d running max\n\n",
                config.block_size, config.num_kv_blocks, config.scheduler.max_batch_tokens,
                config.scheduler.max_running);
    std::printf("  wall time         %10.3f s\n", wall_s);
    std::printf("  requests/s        %10.2f\n", req_per_s);
    std::printf("  output tokens/s   %10.1f\n", tok_per_s);
    std::printf("  finished          %10d (length %d, stop %d, cancelled %d, error %d)\n\n",
                p.requests, all.by_reason[static_cast<int>(FinishReason::kLength)],
                all.by_reason[static_cast<int>(FinishReason::kStop)],
                all.by_reason[static_cast<int>(FinishReason::kCancelled)], errors);
    std::printf("  latency (ms)          mean       p50       p99       max\n");
    auto row = [](const char* name, const LatencySummary& s) {
      std::printf("  %-16s %9.3f %9.3f %9.3f %9.3f\n", name, s.mean, s.p50, s.p99, s.max);
    };
    row("time to first", ttft);
    row("inter-token", itl);
    row("end-to-end", e2e);
    std::printf("\n  engine: %llu steps, %.1f tokens/step, %llu preemptions, %llu prefix-cache blocks reused\n",
                static_cast<unsigned long long>(st.steps), tokens_per_step,
                static_cast<unsigned long long>(st.preemptions),
                static_cast<unsigned long long>(st.kv.prefix_hit_blocks));
  }
  if (errors > 0) {
    std::fprintf(stderr, "parklock-engine bench: %d requests failed; first error: %s\n", errors,
                 all.first_error.c_str());
    return 1;
  }
  return 0;
}

}  // namespace parklock::engine::cli
