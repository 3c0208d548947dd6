// One client connection to an OpenAI-compatible server: posts a completion
// request and reads the answer, streamed (SSE) or not, noting when each
// piece of text arrived. Used by parklock-loadgen and by the server tests.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace parklock::loadgen {

using Clock = std::chrono::steady_clock;

struct CompletionOutcome {
  int status = 0;     // HTTP status; 0 when the transport failed
  std::string error;  // empty on success: the server's error message, or the transport's
  std::string text;   // all generated text, in order
  Clock::time_point start;
  Clock::time_point end;
  std::vector<Clock::time_point> chunk_times;  // arrival of each piece of text
  int prompt_tokens = -1;      // from "usage", when the server sent it
  int completion_tokens = -1;
  std::string finish_reason;
  bool done = false;  // streamed: "data: [DONE]" arrived
  std::vector<nlohmann::json> events;  // streamed: every data payload but [DONE]
  std::string body;                    // not streamed: the response body
  std::string retry_after;             // the Retry-After header, if any

  bool ok() const { return status == 200 && error.empty(); }
};

class CompletionClient {
 public:
  // base_url: "http://HOST:PORT". Keeps its connection alive between calls.
  explicit CompletionClient(const std::string& base_url, std::string api_key = "",
                            int timeout_s = 300);

  // POSTs `body` to `path`; streamed when body["stream"] is true. While
  // streaming, `keep_reading` (if given) is asked after every piece of
  // text; false drops the connection there (a client that goes away).
  CompletionOutcome post(const std::string& path, const nlohmann::json& body,
                         const std::function<bool(const CompletionOutcome&)>& keep_reading = {});

 private:
  std::unique_ptr<httplib::Client> http_;
  std::string api_key_;
};

}  // namespace parklock::loadgen
