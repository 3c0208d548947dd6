// The engine's own Prometheus metrics, named after vLLM's with a
// parklock_engine_ prefix, one series per served model (label model_name):
//
//   parklock_engine_num_requests_running / _waiting    gauge
//   parklock_engine_kv_cache_usage_perc                 gauge, 0..1
//   parklock_engine_prompt_tokens_total                 counter
//   parklock_engine_generation_tokens_total             counter
//   parklock_engine_request_success_total{finished_reason}  counter (stop, length, abort, error)
//   parklock_engine_prefix_cache_queries_total / _hits_total  counter, in tokens
//   parklock_engine_time_to_first_token_seconds         histogram
//   parklock_engine_inter_token_latency_seconds         histogram
//   parklock_engine_request_queue_time_seconds          histogram
//   parklock_engine_e2e_request_latency_seconds         histogram
//
// Recording happens on the HTTP worker threads as tokens reach them; every
// family has its own named lock (metric_families.h). Gauges are read from
// the engines at scrape time.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>

#include "engine/serving/request.h"
#include "engine/server/metric_families.h"

namespace parklock::engine::server {

// What the gauges show for one model, read when /metrics is scraped.
struct ModelLoad {
  std::string model_name;
  int running = 0;
  int waiting = 0;
  double kv_cache_usage = 0;  // used blocks / total, 0..1
};

class EngineMetrics final : public prometheus::Collectable {
 public:
  explicit EngineMetrics(std::function<std::vector<ModelLoad>()> load_source);

  // One streamed token's gap since the previous one.
  void observe_inter_token(const std::string& model, double seconds);
  // A request that reached the engine and ended (any reason).
  void observe_finished(const std::string& model, const RequestResult& result);

  // Text exposition of everything (prometheus-cpp's TextSerializer).
  std::string scrape() const;
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::function<std::vector<ModelLoad>()> load_source_;
  CounterFamily prompt_tokens_;
  CounterFamily generation_tokens_;
  CounterFamily request_success_;
  CounterFamily prefix_cache_queries_;
  CounterFamily prefix_cache_hits_;
  HistogramFamily time_to_first_token_;
  HistogramFamily inter_token_latency_;
  HistogramFamily queue_time_;
  HistogramFamily e2e_latency_;
};

// vLLM's name for how a request ended: stop, length, abort (cancelled), error.
const char* finished_reason_label(FinishReason reason);

}  // namespace parklock::engine::server
