// parklock-loadgen's results, with the definitions of vLLM's
// benchmark_serving: over successful requests, TTFT and E2E per request,
// TPOT per request with more than one output token ((E2E - TTFT) / (output
// tokens - 1)), ITL over every gap between streamed pieces; throughputs over
// the run's duration; percentiles interpolated linearly (numpy's default).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "load_plan.h"
#include "load_run.h"

namespace parklock::loadgen {

struct Stat {
  double mean = 0, median = 0, p99 = 0;  // milliseconds
};

struct LoadReport {
  int completed = 0;
  int failed = 0;
  std::string first_error;
  double duration_s = 0;
  long input_tokens = 0;
  long output_tokens = 0;
  double requests_per_s = 0;
  double output_tokens_per_s = 0;
  double input_tokens_per_s = 0;
  Stat ttft, tpot, itl, e2e;
};

LoadReport summarize(const LoadResult& result);
// vLLM-style table.
std::string report_table(const LoadPlan& plan, const LoadReport& report);
nlohmann::json report_json(const LoadPlan& plan, const LoadReport& report);

}  // namespace parklock::loadgen
