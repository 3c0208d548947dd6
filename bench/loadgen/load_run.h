// Runs a LoadPlan against a server and collects one record per request.
#pragma once

#include <vector>

#include "completion_client.h"
#include "load_plan.h"

namespace parklock::loadgen {

struct RequestRecord {
  bool ok = false;
  std::string error;
  double ttft_s = 0;          // first piece of text (the whole response when not streamed)
  std::vector<double> itl_s;  // gaps between pieces of text
  double e2e_s = 0;
  int prompt_tokens = 0;
  int output_tokens = 0;
};

struct LoadResult {
  std::vector<RequestRecord> records;  // in completion order
  double duration_s = 0;               // first send to last answer
};

// Progress: called after every request with (done, planned); may be empty.
LoadResult run_load(const LoadPlan& plan, const std::function<void(int, int)>& progress);

}  // namespace parklock::loadgen
