// The HTTP/1.1 front end of `parklock-engine serve`, on cpp-httplib:
//
//   POST /v1/completions, /v1/chat/completions   JSON or SSE (stream: true)
//   GET  /v1/models                              served names (bases and LoRAs)
//   GET  /health                                 503 while loading, 200 when ready
//   GET  /metrics                                engine_metrics.h, Prometheus text
//
// Each connection is served by one HTTP worker (http_worker_pool.h), which
// parses and tokenises the request, reads the engine's per-request token
// stream through an OutputReader (detokenising, stop strings), and formats
// and writes the response or every SSE chunk itself; the engine loop only
// computes. Errors are OpenAI-style bodies: 400 bad input, 401 missing
// or wrong API key, 404 unknown model or route, 413 body too large, 429
// (with Retry-After) when a model already has max_running + max_queue
// requests in flight, 500 when generation fails, 503 while loading or
// stopping. A client that disconnects, streaming or not, cancels its request
// (the next engine step frees its KV blocks); a request not received whole
// within the request timeout of its first byte is cut off
// (request_deadline_server.h).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <httplib.h>

#include "engine/server/engine_metrics.h"
#include "engine/server/model_router.h"
#include "engine/server/openai_api.h"
#include "engine/server/request_deadline_server.h"

namespace parklock::engine::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;               // 0: the kernel picks a free one
  int http_threads = 64;         // connections served at once
  std::string api_key;           // non-empty: /v1/* need "Authorization: Bearer <key>"
  size_t max_body_bytes = 1 << 20;
  int max_queue = 256;           // per model, requests admitted beyond its running batch
  int request_timeout_s = 10;    // a request (line, headers, body) must arrive within this
                                 // many seconds of its first byte
  int write_timeout_s = 10;
};

class ApiServer {
 public:
  ApiServer(ModelRouter& router, const ServerOptions& options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds the listening socket; returns the port. Throws std::runtime_error.
  int bind();
  // Serves until stop() (from any thread, e.g. a signal watcher).
  void serve();
  void stop();
  // /health answers 200 from now on.
  void set_ready() { ready_.store(true, std::memory_order_release); }

  EngineMetrics& metrics() { return metrics_; }

 private:
  void handle_completion(Endpoint endpoint, const httplib::Request& req, httplib::Response& res);
  void handle_models(httplib::Response& res) const;
  bool authorized(const httplib::Request& req) const;

  static constexpr int kListenBacklog = 1024;

  ModelRouter& router_;
  const ServerOptions options_;
  int listen_socket_ = -1;  // set by httplib's socket-options hook during bind()
  EngineMetrics metrics_;
  RequestDeadlineServer http_;
  std::atomic<bool> ready_{false};
  std::atomic<uint64_t> next_response_id_{1};
};

// Sets `res` to an OpenAI-style error.
void set_error(httplib::Response& res, const ApiError& e);

}  // namespace parklock::engine::server
