#include "metrics_endpoint.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <unistd.h>

#include <httplib.h>
#include <prometheus/text_serializer.h>

namespace parklock {
namespace {

// How long exit() waits for a scrape in progress (a cold symbolizer takes
// tens of milliseconds), and how long a client may take to send or read.
constexpr auto kExitWait = std::chrono::seconds(2);
constexpr time_t kSocketTimeoutS = 1;

// httplib's pool, each task first running the config's thread hook (the
// pool knows its threads only through their tasks) and counted while it
// runs. Created before the server starts, so that its threads exist once
// start_metrics_endpoint returns, and never destroyed.
class CountedPool {
 public:
  CountedPool(int threads, std::function<void()> on_thread_start)
      : pool_(size_t(threads)), on_thread_start_(std::move(on_thread_start)) {}
  void enqueue(std::function<void()> fn) {
    pool_.enqueue([this, fn = std::move(fn)] {
      if (on_thread_start_) on_thread_start_();
      running_.fetch_add(1);
      fn();
      running_.fetch_sub(1);
    });
  }
  int running() const { return running_.load(); }

 private:
  httplib::ThreadPool pool_;
  std::function<void()> on_thread_start_;
  std::atomic<int> running_{0};
};

// What the server gets from new_task_queue (and would delete if it ever
// stopped listening on its own): a view of the pool.
class PoolView : public httplib::TaskQueue {
 public:
  explicit PoolView(CountedPool& pool) : pool_(pool) {}
  void enqueue(std::function<void()> fn) override { pool_.enqueue(std::move(fn)); }
  void shutdown() override {}

 private:
  CountedPool& pool_;
};

httplib::Server* g_server = nullptr;
CountedPool* g_pool = nullptr;
pid_t g_server_pid = 0;

void close_at_exit() {
  // A fork child has none of the endpoint's threads, and shares its
  // listening socket with the parent: closing it there would close it here.
  if (getpid() != g_server_pid) return;
  g_server->stop();
  const auto give_up = std::chrono::steady_clock::now() + kExitWait;
  while (g_pool->running() > 0 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// "host:port", the host maybe in brackets (IPv6).
std::pair<std::string, int> split_address(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("no port in " + address);
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {host, std::stoi(address.substr(colon + 1))};
}

}  // namespace

int start_metrics_endpoint(MetricsEndpointConfig config) {
  auto [host, port] = split_address(config.address);
  auto server = std::make_unique<httplib::Server>();
  server->set_keep_alive_max_count(1);
  server->set_read_timeout(kSocketTimeoutS);
  server->set_write_timeout(kSocketTimeoutS);
  server->Get("/metrics", [collect = config.collect](const httplib::Request&, httplib::Response& res) {
    // After the request was parsed: the statics that took are registered.
    static std::once_flag registered;
    std::call_once(registered, [] { std::atexit(close_at_exit); });
    res.set_content(prometheus::TextSerializer().Serialize(collect()), "text/plain; version=0.0.4");
  });
  const int bound = port == 0 ? server->bind_to_any_port(host) : (server->bind_to_port(host, port) ? port : -1);
  if (bound < 0) throw std::runtime_error("cannot listen on " + config.address + " (in use, or not an address here)");
  // Leaked on purpose, with their threads: the process may exit mid-scrape.
  g_pool = new CountedPool(config.threads, config.on_thread_start);
  g_server = server.release();
  g_server_pid = getpid();
  g_server->new_task_queue = [] { return new PoolView(*g_pool); };
  std::thread([hook = config.on_thread_start] {
    if (hook) hook();
    g_server->listen_after_bind();
  }).detach();
  return bound;
}

}  // namespace parklock
