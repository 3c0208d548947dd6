#include <chrono>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/cli/commands.h"
#include "engine/cli/latency_summary.h"

namespace parklock::engine::cli {
namespace {

using Ms = std::chrono::duration<double, std::milli>;

const CommandSpec& spec() {
  static const CommandSpec s = [] {
    CommandSpec c{"bench",
                  "Closed-loop load test: N in-process client threads each submit a request,\n"
                  "stream its tokens, and submit the next, until M requests are done. Reports\n"
                  "throughput and client-observed latency (time to first token, inter-token).",
                  model_options()};
    for (auto& o : engine_options()) c.options.push_back(o);
    c.options.insert(
        c.options.end(),
        {
            {"clients", "N", "concurrent client threads", "8", false},
            {"requests", "M", "requests in total", "64", false},
            {"prompt-len", "L", "prompt tokens per request (BOS included)", "64", false},
            {"shared-prefix", "P", "leading prompt tokens common to all requests", "0", false},
            {"max-tokens", "T", "output tokens per request (EOS ignored)", "32", false},
            {"temperature", "T", "0 = greedy", "0", false},
            {"seed", "N", "seed of prompts and sampling", "1", false},
            {"json", "", "print one JSON object instead of the table", "", false},
        });
    return c;
  }();
  return s;
}

struct BenchParams {
  int clients = 0;
  int requests = 0;
  int prompt_len = 0;
  int shared_prefix = 0;
  int max_tokens = 0;
  float temperature = 0;
  uint64_t seed = 0;
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
    RequestHandle handle = engine.submit(std::move(r));
    TokenEvent event;
    Clock::time_point prev{};
    while (handle->next(&event)) {
      if (event.token == kNoToken) continue;
      const auto now = Clock::now();  // as the client sees it, wakeup included
      if (prev == Clock::time_point{})
        log->ttft_ms.push_back(Ms(now - start).count());
      else
        log->itl_ms.push_back(Ms(now - prev).count());
      prev = now;
    }
    const RequestResult result = handle->wait();
    log->e2e_ms.push_back(Ms(Clock::now() - start).count());
    log->output_tokens += static_cast<long>(result.tokens.size());
    ++log->by_reason[static_cast<int>(result.reason)];
    if (result.reason == FinishReason::kError && log->first_error.empty())
      log->first_error = result.error;
  }
}

std::string json_summary(const char* name, const LatencySummary& s) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "\"%s\": {\"count\": %zu, \"mean\": %.4f, \"p50\": %.4f, \"p99\": %.4f, \"max\": %.4f}",
                name, s.count, s.mean, s.p50, s.p99, s.max);
  return buf;
}

std::string json_escape(const std::string& in) {
  std::string out;
  for (char c : in) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out;
}

}  // namespace

int run_bench(std::span<char* const> argv) {
  const ParsedArgs args = parse_args(spec(), argv);
  if (args.flag("help")) {
    std::fputs(usage(spec()).c_str(), stdout);
    return 0;
  }
  BenchParams p;
  p.clients = static_cast<int>(args.integer("clients", 1, 4096));
  p.requests = static_cast<int>(args.integer("requests", 1, 10'000'000));
  p.prompt_len = static_cast<int>(args.integer("prompt-len", 1, 1 << 20));
  p.shared_prefix = static_cast<int>(args.integer("shared-prefix", 0, p.prompt_len));
  p.max_tokens = static_cast<int>(args.integer("max-tokens", 1, 1 << 20));
  p.temperature = static_cast<float>(args.real("temperature", 0.0, 100.0));
  p.seed = static_cast<uint64_t>(args.integer("seed", 0, std::numeric_limits<int64_t>::max()));
  const EngineConfig config = engine_config(args);
  const bool json = args.flag("json");

  auto model = load_model(args);
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
  const double req_per_s = p.requests / wall_s;
  const double tok_per_s = static_cast<double>(all.output_tokens) / wall_s;
  const double tokens_per_step =
      st.steps ? static_cast<double>(st.computed_tokens) / static_cast<double>(st.steps) : 0.0;
  const int errors = all.by_reason[static_cast<int>(FinishReason::kError)];

  if (json) {
    std::printf(
        "{\"model\": \"%s\", \"clients\": %d, \"requests\": %d, \"prompt_len\": %d, "
        "\"shared_prefix\": %d, \"max_tokens\": %d, \"temperature\": %g, "
        "\"block_size\": %d, \"kv_blocks\": %d, \"max_batch_tokens\": %d, \"max_running\": %d, "
        "\"wall_s\": %.6f, \"requests_per_s\": %.4f, \"output_tokens_per_s\": %.4f, "
        "\"output_tokens\": %ld, \"errors\": %d, %s, %s, %s, "
        "\"engine\": {\"steps\": %llu, \"tokens_per_step\": %.3f, \"preemptions\": %llu, "
        "\"prefix_hit_blocks\": %llu, \"cow_copies\": %llu}}\n",
        json_escape(model_description(args)).c_str(), p.clients, p.requests, p.prompt_len,
        p.shared_prefix, p.max_tokens, p.temperature, config.block_size, config.num_kv_blocks,
        config.scheduler.max_batch_tokens, config.scheduler.max_running, wall_s, req_per_s,
        tok_per_s, all.output_tokens, errors, json_summary("ttft_ms", ttft).c_str(),
        json_summary("itl_ms", itl).c_str(), json_summary("e2e_ms", e2e).c_str(),
        static_cast<unsigned long long>(st.steps), tokens_per_step,
        static_cast<unsigned long long>(st.preemptions),
        static_cast<unsigned long long>(st.kv.prefix_hit_blocks),
        static_cast<unsigned long long>(st.kv.copies));
  } else {
    std::printf("parklock-engine bench\n");
    std::printf("  model    %s\n", model_description(args).c_str());
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
