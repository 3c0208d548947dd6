// parklock-loadgen: drives an OpenAI-compatible server the way
// `vllm bench serve` does, and reports throughput and latency.
//   parklock-loadgen --url http://127.0.0.1:8000 --model tiny --clients 8 --requests 200
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "load_report.h"
#include "load_run.h"

namespace parklock::loadgen {

namespace {

void draw_progress(int done, int planned) {
  const int width = 40;
  const int filled = planned > 0 ? width * done / planned : width;
  std::fprintf(stderr, "\r[%s%s] %d/%d", std::string(filled, '#').c_str(),
               std::string(width - filled, ' ').c_str(), done, planned);
  if (done >= planned) std::fputc('\n', stderr);
  std::fflush(stderr);
}

int run(int argc, char** argv) {
  CLI::App app("Load generator for OpenAI-compatible servers (closed or open loop).",
               "parklock-loadgen");
  LoadPlan plan;
  std::string prompt_len = "64", max_tokens = "32", json_path;
  bool no_stream = false;
  app.add_option("--url", plan.url, "server, http://HOST:PORT")->required();
  app.add_option("--model", plan.model, "model name to request")->required();
  app.add_option("--api-key", plan.api_key, "sent as 'Authorization: Bearer KEY'");
  auto* clients = app.add_option("--clients", plan.clients, "closed loop: concurrent clients")
                      ->check(CLI::Range(1, 4096))->capture_default_str();
  auto* rate = app.add_option("--rate", plan.rate, "open loop: Poisson arrivals, requests/s")
                   ->check(CLI::PositiveNumber);
  clients->excludes(rate);
  app.add_option("--max-concurrency", plan.max_concurrency, "open loop: requests in flight at most")
      ->check(CLI::Range(1, 4096))->capture_default_str();
  app.add_option("--requests", plan.requests, "requests to send")
      ->check(CLI::Range(1, 10'000'000))->capture_default_str();
  app.add_option("--duration-s", plan.duration_s, "stop sending new requests after S seconds")
      ->check(CLI::PositiveNumber);
  app.add_option("--prompt-len", prompt_len, "prompt bytes, N or A:B (uniform)")->capture_default_str();
  app.add_option("--max-tokens", max_tokens, "output tokens, N or A:B (uniform)")->capture_default_str();
  app.add_flag("--no-stream", no_stream, "ask for whole responses instead of SSE");
  app.add_flag("--chat", plan.chat, "use /v1/chat/completions");
  app.add_option("--seed", plan.seed, "seed of prompts, lengths and arrivals")->capture_default_str();
  app.add_option("--json", json_path, "also write the results as one JSON object to FILE");
  try {
    app.parse(argc, argv);
    plan.prompt_len = parse_length_range(prompt_len);
    plan.max_tokens = parse_length_range(max_tokens);
    if (plan.url.rfind("http://", 0) != 0)
      throw std::invalid_argument("--url must start with http://");
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "parklock-loadgen: %s\nRun 'parklock-loadgen --help' for its options.\n", e.what());
    return 2;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "parklock-loadgen: %s\nRun 'parklock-loadgen --help' for its options.\n", e.what());
    return 2;
  }
  plan.stream = !no_stream;

  const bool tty = ::isatty(STDERR_FILENO) == 1;
  const LoadResult result = run_load(plan, tty ? std::function<void(int, int)>(draw_progress)
                                               : std::function<void(int, int)>());
  const LoadReport report = summarize(result);
  std::fputs(report_table(plan, report).c_str(), stdout);
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << report_json(plan, report).dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "parklock-loadgen: cannot write %s\n", json_path.c_str());
      return 1;
    }
  }
  if (report.failed > 0)
    std::fprintf(stderr, "parklock-loadgen: %d requests failed; first error: %s\n", report.failed,
                 report.first_error.c_str());
  return report.completed > 0 ? 0 : 1;
}

}  // namespace
}  // namespace parklock::loadgen

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a server that closes mid-request fails that request only
  return parklock::loadgen::run(argc, argv);
}
