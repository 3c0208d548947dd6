#include "engine/server/engine_metrics.h"

#include <chrono>

#include <prometheus/text_serializer.h>

namespace parklock::engine::server {
namespace {

constexpr const char* kPrefix = "parklock_engine_";

std::string metric(const char* name) { return std::string(kPrefix) + name; }

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// vLLM's buckets (seconds), so dashboards made for it read ours.
const std::vector<double> kTtftBuckets = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,
                                          0.25,  0.5,   0.75, 1.0,  2.5,  5.0,  7.5,  10.0};
const std::vector<double> kItlBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15,
                                         0.2,   0.3,   0.4,  0.5,   0.75, 1.0,   2.5};
const std::vector<double> kRequestBuckets = {0.01, 0.05, 0.1, 0.3, 0.5, 0.8, 1.0,  1.5,
                                             2.0,  2.5,  5.0, 10.0, 15.0, 20.0, 30.0, 60.0};

}  // namespace

const char* finished_reason_label(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "abort";
    case FinishReason::kError: return "error";
  }
  return "error";
}

EngineMetrics::EngineMetrics(std::function<std::vector<ModelLoad>()> load_source)
    : load_source_(std::move(load_source)),
      prompt_tokens_(metric("prompt_tokens_total"), "Prompt tokens processed.", {"model_name"}),
      generation_tokens_(metric("generation_tokens_total"), "Generated tokens.", {"model_name"}),
      request_success_(metric("request_success_total"), "Finished requests by finish reason.",
                       {"model_name", "finished_reason"}),
      prefix_cache_queries_(metric("prefix_cache_queries_total"),
                            "Prompt tokens looked up in the prefix cache.", {"model_name"}),
      prefix_cache_hits_(metric("prefix_cache_hits_total"),
                         "Prompt tokens found in the prefix cache.", {"model_name"}),
      time_to_first_token_(metric("time_to_first_token_seconds"),
                           "Time from arrival to the first generated token.", {"model_name"},
                           kTtftBuckets),
      inter_token_latency_(metric("inter_token_latency_seconds"),
                           "Time between consecutive streamed tokens.", {"model_name"},
                           kItlBuckets),
      queue_time_(metric("request_queue_time_seconds"),
                  "Time from arrival to the first forward pass.", {"model_name"}, kRequestBuckets),
      e2e_latency_(metric("e2e_request_latency_seconds"), "Time from arrival to the end.",
                   {"model_name"}, kRequestBuckets) {}

void EngineMetrics::observe_inter_token(const std::string& model, double seconds) {
  inter_token_latency_.observe({model}, seconds);
}

void EngineMetrics::observe_finished(const std::string& model, const RequestResult& r) {
  const LabelValues m{model};
  prompt_tokens_.add(m, r.prompt_tokens);
  generation_tokens_.add(m, static_cast<double>(r.tokens.size()));
  request_success_.add({model, finished_reason_label(r.reason)}, 1);
  prefix_cache_queries_.add(m, r.prompt_tokens);
  prefix_cache_hits_.add(m, r.cached_prompt_tokens);
  if (!r.tokens.empty())
    time_to_first_token_.observe(m, seconds_between(r.submit_time, r.first_token_time));
  queue_time_.observe(m, seconds_between(r.submit_time, r.first_scheduled_time));
  e2e_latency_.observe(m, seconds_between(r.submit_time, r.finish_time));
}

std::vector<prometheus::MetricFamily> EngineMetrics::Collect() const {
  using prometheus::MetricFamily;
  using prometheus::MetricType;
  MetricFamily running{metric("num_requests_running"), "Requests in the running batch.",
                       MetricType::Gauge, {}};
  MetricFamily waiting{metric("num_requests_waiting"), "Requests waiting to be scheduled.",
                       MetricType::Gauge, {}};
  MetricFamily kv{metric("kv_cache_usage_perc"), "Fraction of KV cache blocks in use (0 to 1).",
                  MetricType::Gauge, {}};
  for (const ModelLoad& load : load_source_()) {
    auto gauge = [&](MetricFamily& f, double v) {
      prometheus::ClientMetric m;
      m.label = {{"model_name", load.model_name}};
      m.gauge.value = v;
      f.metric.push_back(std::move(m));
    };
    gauge(running, load.running);
    gauge(waiting, load.waiting);
    gauge(kv, load.kv_cache_usage);
  }
  return {running,
          waiting,
          kv,
          prompt_tokens_.snapshot(),
          generation_tokens_.snapshot(),
          request_success_.snapshot(),
          prefix_cache_queries_.snapshot(),
          prefix_cache_hits_.snapshot(),
          time_to_first_token_.snapshot(),
          inter_token_latency_.snapshot(),
          queue_time_.snapshot(),
          e2e_latency_.snapshot()};
}

std::string EngineMetrics::scrape() const { return prometheus::TextSerializer().Serialize(Collect()); }

}  // namespace parklock::engine::server
