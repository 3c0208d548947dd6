// The HTTP server's worker threads: cpp-httplib hands each accepted
// connection to this queue, and a worker serves every request on it
// (parsing, tokenising, waiting on the engine, formatting and writing the
// SSE stream). Replaces httplib's own pool so that its lock is an ordinary,
// named std::mutex ("http_worker_queue") that parklock's reports can show.
//
// A connection that arrives when every worker is busy waits in the queue
// (as with httplib's pool: the queued task owns the socket, so it cannot be
// dropped); overload is answered per request, with 429 (api_server.h).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

namespace parklock::engine::server {

class HttpWorkerPool final : public httplib::TaskQueue {
 public:
  explicit HttpWorkerPool(int threads);
  ~HttpWorkerPool() override;

  void enqueue(std::function<void()> fn) override;
  // Runs what is queued, then joins the workers (httplib calls it on stop).
  void shutdown() override;

 private:
  void work();

  std::mutex mu_;  // "http_worker_queue"
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace parklock::engine::server
