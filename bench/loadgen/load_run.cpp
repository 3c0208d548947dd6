#include "load_run.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace parklock::loadgen {
namespace {

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Printable ASCII, so prompts look like text in traces.
std::string make_prompt(int bytes, std::mt19937_64& rng) {
  std::string s(static_cast<size_t>(bytes), ' ');
  for (char& c : s) c = static_cast<char>(32 + rng() % 95);
  return s;
}

nlohmann::json request_body(const LoadPlan& plan, int index) {
  std::mt19937_64 rng(plan.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(index));
  nlohmann::json body = {{"model", plan.model},
                         {"max_tokens", plan.max_tokens.draw(rng)},
                         {"temperature", 0},
                         {"ignore_eos", true},  // every request does the work it asked for
                         {"stream", plan.stream}};
  const std::string prompt = make_prompt(plan.prompt_len.draw(rng), rng);
  if (plan.chat)
    body["messages"] = {{{"role", "user"}, {"content", prompt}}};
  else
    body["prompt"] = prompt;
  if (plan.stream) body["stream_options"] = {{"include_usage", true}};
  return body;
}

// vLLM's definitions: TTFT to the first piece of text, ITL between pieces,
// E2E to the end of the response.
RequestRecord to_record(const CompletionOutcome& o) {
  RequestRecord r;
  r.ok = o.ok();
  r.error = o.error;
  r.e2e_s = seconds(o.end - o.start);
  r.ttft_s = o.chunk_times.empty() ? r.e2e_s : seconds(o.chunk_times.front() - o.start);
  for (size_t i = 1; i < o.chunk_times.size(); ++i)
    r.itl_s.push_back(seconds(o.chunk_times[i] - o.chunk_times[i - 1]));
  r.prompt_tokens = std::max(0, o.prompt_tokens);
  r.output_tokens = o.completion_tokens >= 0 ? o.completion_tokens
                                             : static_cast<int>(o.chunk_times.size());
  return r;
}

class Collector {
 public:
  Collector(int planned, const std::function<void(int, int)>& progress)
      : planned_(planned), progress_(progress) {}
  void add(RequestRecord r) {
    int done;
    {
      std::lock_guard lock(mu_);
      records_.push_back(std::move(r));
      done = static_cast<int>(records_.size());
    }
    if (progress_) progress_(done, planned_);
  }
  std::vector<RequestRecord> take() { return std::move(records_); }

 private:
  const int planned_;
  const std::function<void(int, int)>& progress_;
  std::mutex mu_;
  std::vector<RequestRecord> records_;
};

}  // namespace

LoadResult run_load(const LoadPlan& plan, const std::function<void(int, int)>& progress) {
  Collector collector(plan.requests, progress);
  const Clock::time_point start = Clock::now();
  const auto past_deadline = [&] {
    return plan.duration_s && seconds(Clock::now() - start) >= *plan.duration_s;
  };
  auto send = [&](CompletionClient& client, int index) {
    const char* path = plan.chat ? "/v1/chat/completions" : "/v1/completions";
    collector.add(to_record(client.post(path, request_body(plan, index))));
  };

  std::vector<std::thread> threads;
  if (plan.rate <= 0) {
    std::atomic<int> next{0};
    for (int c = 0; c < std::min(plan.clients, plan.requests); ++c) {
      threads.emplace_back([&] {
        CompletionClient client(plan.url, plan.api_key);
        for (int i; (i = next.fetch_add(1)) < plan.requests && !past_deadline();) send(client, i);
      });
    }
  } else {
    // Arrivals are queued on their Poisson schedule; workers take them as
    // they come (and fall behind only when max_concurrency are busy).
    std::mutex mu;
    std::condition_variable cv;
    std::deque<int> arrived;
    bool closed = false;
    for (int w = 0; w < std::min(plan.max_concurrency, plan.requests); ++w) {
      threads.emplace_back([&] {
        CompletionClient client(plan.url, plan.api_key);
        for (;;) {
          int i;
          {
            std::unique_lock lock(mu);
            cv.wait(lock, [&] { return closed || !arrived.empty(); });
            if (arrived.empty()) return;
            i = arrived.front();
            arrived.pop_front();
          }
          send(client, i);
        }
      });
    }
    std::mt19937_64 rng(plan.seed);
    std::exponential_distribution<double> gap(plan.rate);
    Clock::time_point at = start;
    for (int i = 0; i < plan.requests; ++i) {
      at += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(gap(rng)));
      std::this_thread::sleep_until(at);
      if (past_deadline()) break;
      {
        std::lock_guard lock(mu);
        arrived.push_back(i);
      }
      cv.notify_one();
    }
    {
      std::lock_guard lock(mu);
      closed = true;
    }
    cv.notify_all();
  }
  for (auto& t : threads) t.join();
  LoadResult result;
  result.duration_s = seconds(Clock::now() - start);
  result.records = collector.take();
  return result;
}

}  // namespace parklock::loadgen
