// The server under load and abuse: 64 concurrent streaming clients with a
// quarter hanging up mid-stream, a non-streaming client hanging up, overload
// (429), clients too slow to send their requests, the /metrics scrape
// (promtool, counters), and the same answers with parklock preloaded.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <thread>

#include "server_test_util.h"

namespace parklock::engine::testing {
namespace {

std::string scrape(const ServerProcess& server) {
  httplib::Client http(server.url());
  auto res = http.Get("/metrics");
  return res && res->status == 200 ? res->body : "";
}

// A plain TCP connection to the server, for clients that misbehave; -1 on failure.
int connect_to(const ServerProcess& server) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Polls /metrics (bounded) until nothing runs or waits and no KV block is in
// use in `model`.
bool wait_until_idle(const ServerProcess& server, std::string* last,
                     const std::string& model = "tiny") {
  const std::string label = "{model_name=\"" + model + "\"}";
  for (int i = 0; i < 300; ++i) {
    *last = scrape(server);
    if (metric_value(*last, "parklock_engine_num_requests_running" + label) == 0 &&
        metric_value(*last, "parklock_engine_num_requests_waiting" + label) == 0 &&
        metric_value(*last, "parklock_engine_kv_cache_usage_perc" + label) == 0)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST(ServerLoad, SixtyFourClientsAQuarterHangUp) {
  ServerProcess server({"--model", "tiny=" + ModelFiles::get().model, "--threads", "2",
                        "--threads-http", "72", "--kv-blocks", "512"});
  constexpr int kClients = 64;
  std::atomic<int> ok{0}, hung_up{0}, failed{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      CompletionClient client(server.url());
      const bool hang_up = c % 4 == 0;
      const CompletionOutcome o = client.post(
          "/v1/completions", completion("tiny", "client " + std::to_string(c), 400, true),
          [&](const CompletionOutcome& so_far) { return !(hang_up && so_far.chunk_times.size() >= 3); });
      if (hang_up && !o.done)
        ++hung_up;
      else if (o.ok() && o.completion_tokens == -1 && o.text.size() > 0)
        ++ok;
      else
        ++failed;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(ok.load() + hung_up.load(), kClients);
  std::string metrics;
  EXPECT_TRUE(wait_until_idle(server, &metrics)) << metrics;
  // Every request is accounted for: finished or aborted (a client may hang
  // up just after the engine produced its last token).
  const double length = metric_value(metrics, "parklock_engine_request_success_total{model_name=\"tiny\",finished_reason=\"length\"}");
  const double abort = metric_value(metrics, "parklock_engine_request_success_total{model_name=\"tiny\",finished_reason=\"abort\"}");
  EXPECT_EQ(std::max(0.0, length) + std::max(0.0, abort), kClients) << metrics;
  EXPECT_LE(std::max(0.0, abort), kClients / 4);
  CompletionClient after(server.url());
  EXPECT_TRUE(after.post("/v1/completions", completion("tiny", "still here", 8, true)).ok());
  EXPECT_EQ(server.stop(), 0);
}

// A non-streaming client is written nothing until its answer is whole, so
// the server watches its connection while the request runs: a client that
// hangs up has its request cancelled and its KV blocks freed long before
// the 2000 tokens it asked for (about a second on the small model) are done.
TEST(ServerLoad, NonStreamingClientThatHangsUpIsCancelled) {
  ServerProcess server({"--config", "small"});
  constexpr int kMaxTokens = 2000;
  const std::string body = completion("small", "x", kMaxTokens, false).dump();
  const std::string request = "POST /v1/completions HTTP/1.1\r\nHost: x\r\n"
                              "Content-Type: application/json\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
  const int fd = connect_to(server);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  const std::string running = "parklock_engine_num_requests_running{model_name=\"small\"}";
  bool seen_running = false;
  for (int i = 0; i < 500 && !seen_running; ++i) {
    seen_running = metric_value(scrape(server), running) == 1;
    if (!seen_running) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(seen_running) << "the request never started";
  // Had the answer come already, hanging up now would prove nothing.
  char byte;
  ASSERT_LT(::recv(fd, &byte, 1, MSG_DONTWAIT), 0) << "the request finished before the hang-up";
  ::close(fd);

  std::string metrics;
  ASSERT_TRUE(wait_until_idle(server, &metrics, "small")) << metrics;  // every KV block free
  const std::string reason = "parklock_engine_request_success_total{model_name=\"small\",finished_reason=";
  EXPECT_EQ(metric_value(metrics, reason + "\"abort\"}"), 1) << metrics;
  EXPECT_LE(metric_value(metrics, reason + "\"length\"}"), 0) << metrics;
  const double generated =
      metric_value(metrics, "parklock_engine_generation_tokens_total{model_name=\"small\"}");
  EXPECT_LT(generated, kMaxTokens) << metrics;
  CompletionClient after(server.url());
  EXPECT_TRUE(after.post("/v1/completions", completion("small", "still here", 8, false)).ok());
  EXPECT_EQ(server.stop(), 0);
}

TEST(ServerLoad, OverloadGets429WithRetryAfter) {
  // One request in flight at most: concurrent arrivals beyond it are refused.
  ServerProcess server({"--config", "tiny", "--max-running", "1", "--max-queue", "0"});
  int refused = 0, served = 0, other = 0;
  for (int round = 0; round < 5 && refused == 0; ++round) {
    std::vector<CompletionOutcome> outcomes(16);
    std::vector<std::thread> threads;
    for (int i = 0; i < 16; ++i)
      threads.emplace_back([&, i] {
        CompletionClient client(server.url());
        outcomes[i] = client.post("/v1/completions", completion("tiny", "x", 300, true));
      });
    for (auto& t : threads) t.join();
    for (const auto& o : outcomes) {
      if (o.status == 429 && o.retry_after == "1" && !o.error.empty())
        ++refused;
      else if (o.ok())
        ++served;
      else
        ++other;
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(served, 0);
  EXPECT_EQ(other, 0);
  EXPECT_EQ(server.stop(), 0);
}

TEST(ServerLoad, ClientTooSlowToSendItsRequestIsCutOff) {
  ServerProcess server({"--config", "tiny", "--request-timeout-s", "1"});
  const int fd = connect_to(server);
  ASSERT_GE(fd, 0);
  const std::string partial = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"mo";
  ASSERT_EQ(::send(fd, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));
  timeval tv{20, 0};  // the server must close well before this
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const auto start = std::chrono::steady_clock::now();
  char buf[512];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
  }
  EXPECT_EQ(n, 0) << "expected the server to close the connection";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15));
  ::close(fd);
  CompletionClient client(server.url());
  EXPECT_TRUE(client.post("/v1/completions", completion("tiny", "next", 4, false)).ok());
  EXPECT_EQ(server.stop(), 0);
}

// A byte every half second never lets a single read time out; the
// request's total deadline (3 s from its first byte) cuts it off anyway.
TEST(ServerLoad, ClientTricklingItsRequestIsCutOffAtTheDeadline) {
  ServerProcess server({"--config", "tiny", "--request-timeout-s", "3"});
  const int fd = connect_to(server);
  ASSERT_GE(fd, 0);
  const std::string request = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nX-Padding: " +
                              std::string(200, 'a');
  constexpr size_t kMaxBytes = 60;  // 30 s of trickling at most
  const auto start = std::chrono::steady_clock::now();
  bool closed = false;
  for (size_t i = 0; i < kMaxBytes && !closed; ++i) {
    if (::send(fd, &request[i], 1, MSG_NOSIGNAL) != 1) {
      closed = true;  // reset by the server
      break;
    }
    // Waits half a second for the server to answer (a 400, or just the
    // close), then reads to the end of what it sent.
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 500) <= 0) continue;
    char buf[512];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
    }
    closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_TRUE(closed) << "the server kept a trickling request open for " << kMaxBytes << " bytes";
  EXPECT_GE(elapsed, std::chrono::seconds(2)) << "cut off before the deadline";
  EXPECT_LT(elapsed, std::chrono::seconds(25));
  CompletionClient client(server.url());
  EXPECT_TRUE(client.post("/v1/completions", completion("tiny", "next", 4, false)).ok());
  EXPECT_TRUE(client.post("/v1/completions", completion("tiny", "and a stream", 8, true)).ok());
  EXPECT_EQ(server.stop(), 0);
}

TEST(ServerMetrics, ScrapePassesPromtoolAndCountsRequests) {
  ServerProcess server({"--config", "tiny"});
  CompletionClient client(server.url());
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(client.post("/v1/completions", completion("tiny", "abcd", 7, i % 2 == 0)).ok());
  // Rejected before reaching the engine: not a finished request.
  EXPECT_EQ(client.post("/v1/completions", completion("tiny", "a", 0, false)).status, 400);
  std::string text;
  ASSERT_TRUE(wait_until_idle(server, &text)) << text;
  const std::string m = "{model_name=\"tiny\"}";
  EXPECT_EQ(metric_value(text, "parklock_engine_request_success_total{model_name=\"tiny\",finished_reason=\"length\"}"), 5);
  EXPECT_EQ(metric_value(text, "parklock_engine_generation_tokens_total" + m), 35);
  EXPECT_EQ(metric_value(text, "parklock_engine_prompt_tokens_total" + m), 25);  // BOS + 4 bytes
  EXPECT_EQ(metric_value(text, "parklock_engine_prefix_cache_queries_total" + m), 25);
  EXPECT_EQ(metric_value(text, "parklock_engine_e2e_request_latency_seconds_count" + m), 5);
  EXPECT_EQ(metric_value(text, "parklock_engine_time_to_first_token_seconds_count" + m), 5);
  EXPECT_EQ(metric_value(text, "parklock_engine_inter_token_latency_seconds_count" + m), 30);
  EXPECT_EQ(metric_value(text, "parklock_engine_e2e_request_latency_seconds_bucket{model_name=\"tiny\",le=\"+Inf\"}"), 5);
#ifdef PROMTOOL_BIN
  const std::string path = (ModelFiles::get().dir / "scrape.txt").string();
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  int status = 0;
  const std::string out = run_command(std::string(PROMTOOL_BIN) + " check metrics < " + path + " 2>&1", &status);
  EXPECT_EQ(status, 0) << out;
#else
  GTEST_SKIP() << "promtool not found at configure time";
#endif
  EXPECT_EQ(server.stop(), 0);
}

#ifdef PARKLOCK_PRELOAD_LIB
// The server with parklock preloaded gives the same answers, greedy and
// seeded, streamed and not, as without.
TEST(ServerPreload, SameAnswersWithParklock) {
  const ModelFiles& f = ModelFiles::get();
  const std::vector<std::string> args = {"--model", "tiny=" + f.model, "--lora", "ad=" + f.lora,
                                         "--device", "cpu", "--threads", "2"};
  ServerProcess native(args);
  ServerProcess preloaded(args, PARKLOCK_PRELOAD_LIB);
  CompletionClient a(native.url()), b(preloaded.url());
  for (int i = 0; i < 6; ++i) {
    json req = completion(i % 3 == 2 ? "ad" : "tiny", "prompt number " + std::to_string(i), 24, i % 2 == 0);
    if (i >= 3) {
      req["temperature"] = 0.9;
      req["seed"] = 100 + i;
    }
    const CompletionOutcome x = a.post("/v1/completions", req), y = b.post("/v1/completions", req);
    ASSERT_TRUE(x.ok()) << x.error;
    ASSERT_TRUE(y.ok()) << y.error;
    EXPECT_EQ(x.text, y.text) << "request " << i;
  }
  EXPECT_EQ(native.stop(), 0);
  EXPECT_EQ(preloaded.stop(), 0);
}
#endif

}  // namespace
}  // namespace parklock::engine::testing
