#include "engine/server/api_server.h"

#include <sys/socket.h>

#include <chrono>
#include <ctime>

#include "engine/server/http_worker_pool.h"
#include "engine/server/served_connection.h"
#include "engine/serving/output_reader.h"

namespace parklock::engine::server {
namespace {

using httplib::Server;

constexpr const char* kJson = "application/json";

ApiError service_unavailable(const std::string& message) {
  return ApiError(503, "server_error", "service_unavailable", message);
}

// Holds one of a model's in-flight slots from admission until the response
// is written (or its stream cancelled); throws 429 when none is left.
class InFlightSlot {
 public:
  InFlightSlot(ServedModel& model, int limit) : model_(&model) {
    if (model.in_flight.fetch_add(1, std::memory_order_acq_rel) >= limit) {
      model.in_flight.fetch_sub(1, std::memory_order_acq_rel);
      throw ApiError(429, "rate_limit_error", "too_many_requests",
                     "model '" + model.name + "' already has " + std::to_string(limit) +
                         " requests in flight; retry later");
    }
  }
  ~InFlightSlot() { model_->in_flight.fetch_sub(1, std::memory_order_acq_rel); }
  InFlightSlot(const InFlightSlot&) = delete;
  InFlightSlot& operator=(const InFlightSlot&) = delete;

 private:
  ServedModel* model_;
};

// The gaps between tokens as the HTTP worker receives them.
class TokenClock {
 public:
  // Seconds since the previous token, or a negative value for the first.
  double tick() {
    const Clock::time_point now = Clock::now();
    const double gap = last_ == Clock::time_point{} ? -1.0
                                                    : std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return gap;
  }

 private:
  Clock::time_point last_{};
};

enum class Read { kEvent, kEnded, kClientGone };

// Reads a request's output on the HTTP worker serving it, looking whether
// its client is still connected every kInterval: while it waits for a token
// (a request still queued or in prefill) and between tokens, but not at each
// token, which would add a poll(2) per token to every worker.
class ClientWatch {
 public:
  static constexpr auto kInterval = std::chrono::milliseconds(50);

  Read next(OutputReader& reader, OutputEvent* event) {
    for (;;) {
      const Clock::time_point now = Clock::now();
      if (now >= next_check_) {
        if (ServedConnection::client_gone()) return Read::kClientGone;
        next_check_ = now + kInterval;
      }
      switch (reader.next_for(event, next_check_ - now)) {
        case OutputReader::Next::kEvent: return Read::kEvent;
        case OutputReader::Next::kEnded: return Read::kEnded;
        case OutputReader::Next::kTimeout: break;
      }
    }
  }

 private:
  Clock::time_point next_check_{};  // the first read checks at once
};

// One streamed response: shared by the content provider and its releaser.
struct StreamState {
  Route route;
  std::unique_ptr<OutputReader> reader;
  ResponseMeta meta;
  bool include_usage = false;
  std::unique_ptr<InFlightSlot> slot;
  TokenClock clock;
  ClientWatch watch;
  bool first = true;
  bool recorded = false;  // observe_finished done
};

const char* error_type_for(int status) {
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 413: return "invalid_request_error";
    case 429: return "rate_limit_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

ApiError generation_failed(const RequestResult& r) {
  if (r.reason == FinishReason::kCancelled)
    return service_unavailable("the request was cancelled: " +
                               (r.error.empty() ? std::string("server is stopping") : r.error));
  return ApiError(500, "server_error", "generation_failed", r.error);
}

}  // namespace

void set_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  if (e.status == 429 || e.status == 503) res.set_header("Retry-After", "1");
  res.set_content(error_body(e).dump(), kJson);
}

ApiServer::ApiServer(ModelRouter& router, const ServerOptions& options)
    : router_(router),
      options_(options),
      metrics_([&router] { return router.loads(); }),
      http_(std::chrono::seconds(options.request_timeout_s)) {
  http_.new_task_queue = [n = options.http_threads] { return new HttpWorkerPool(n); };
  http_.set_payload_max_length(options.max_body_bytes);
  http_.set_write_timeout(options.write_timeout_s, 0);
  http_.set_keep_alive_max_count(100000);
  // An idle keep-alive connection (or a new one that sends nothing) holds a
  // worker until then: short, so idle clients do not keep workers from others.
  http_.set_keep_alive_timeout(2);
  http_.set_tcp_nodelay(true);  // each SSE chunk goes out as it is written
  // Remember the listening socket, so bind() can raise httplib's backlog of
  // 5 (fixed when the library was compiled). This replaces httplib's
  // default options, so set its SO_REUSEADDR here.
  http_.set_socket_options([this](socket_t sock) {
    const int one = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    listen_socket_ = sock;
  });

  http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.path.rfind("/v1/", 0) == 0 && !authorized(req)) {
      set_error(res, ApiError(401, "authentication_error", "invalid_api_key",
                              "missing or wrong API key (Authorization: Bearer <key>)"));
      return Server::HandlerResponse::Handled;
    }
    return Server::HandlerResponse::Unhandled;
  });
  // httplib's own errors (unknown route, body over the limit, bad request
  // line) come with an empty body: give them the OpenAI shape too.
  http_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string message = "HTTP error " + std::to_string(res.status);
    std::string code = "http_" + std::to_string(res.status);
    if (res.status == 404) message = "no route for " + req.method + " " + req.path;
    if (res.status == 413) {
      message = "request body is larger than the server's limit";
      code = "payload_too_large";
    }
    set_error(res, ApiError(res.status, error_type_for(res.status), code, message));
  });
  http_.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        set_error(res, ApiError(500, "server_error", "internal_error", what));
      });

  http_.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    if (ready_.load(std::memory_order_acquire))
      res.set_content("", "text/plain");
    else
      set_error(res, service_unavailable("loading models"));
  });
  http_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.scrape(), "text/plain; version=0.0.4");
  });
  http_.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    handle_models(res);
  });
  http_.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle_completion(Endpoint::kCompletions, req, res);
  });
  http_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle_completion(Endpoint::kChatCompletions, req, res);
  });
}

ApiServer::~ApiServer() { stop(); }

int ApiServer::bind() {
  int port = options_.port;
  if (port == 0) {
    port = http_.bind_to_any_port(options_.host);
    if (port < 0) throw std::runtime_error("cannot listen on " + options_.host + ": no free port");
  } else if (!http_.bind_to_port(options_.host, port)) {
    throw std::runtime_error("cannot listen on " + options_.host + ":" + std::to_string(port) +
                             " (in use, or a bad address?)");
  }
  // With a backlog of 5, a burst of new connections (32 clients starting at
  // once) overflows the accept queue and the kernel drops SYNs: those
  // clients retry after a second, which showed up as 1 s p99 TTFTs. listen()
  // again on the bound socket only raises the backlog.
  if (listen_socket_ >= 0) ::listen(listen_socket_, kListenBacklog);
  return port;
}

void ApiServer::serve() { http_.listen_after_bind(); }

void ApiServer::stop() {
  if (http_.is_running()) http_.stop();
}

bool ApiServer::authorized(const httplib::Request& req) const {
  if (options_.api_key.empty()) return true;
  return req.get_header_value("Authorization") == "Bearer " + options_.api_key;
}

void ApiServer::handle_models(httplib::Response& res) const {
  Json data = Json::array();
  for (const Route& r : router_.routes()) {
    data.push_back({{"id", r.name},
                    {"object", "model"},
                    {"created", 0},
                    {"owned_by", "parklock"},
                    {"root", r.base->name},
                    {"parent", r.adapter.empty() ? Json(nullptr) : Json(r.base->name)},
                    {"max_model_len", r.base->model->config().max_positions}});
  }
  res.set_content(Json{{"object", "list"}, {"data", data}}.dump(), kJson);
}

void ApiServer::handle_completion(Endpoint endpoint, const httplib::Request& req,
                                  httplib::Response& res) {
  try {
    if (!ready_.load(std::memory_order_acquire)) throw service_unavailable("loading models");
    CompletionCall call = parse_completion_call(endpoint, req.body);
    std::optional<Route> route = router_.find(call.model);
    if (!route)
      throw ApiError(404, "not_found_error", "model_not_found",
                     "model '" + call.model + "' does not exist (see GET /v1/models)");
    Engine& engine = *route->base->engine;

    Request request;
    request.prompt = call.prompt_is_tokens ? std::move(call.prompt_tokens)
                                           : engine.tokenizer().encode(call.prompt_text, true);
    request.sampling = std::move(call.sampling);
    request.adapter = route->adapter;
    if (const std::string error = engine.check(request); !error.empty())
      throw bad_request(error, error.find("exceeds") != std::string::npos ||
                                       error.find("KV blocks") != std::string::npos
                                   ? "context_length_exceeded"
                                   : "invalid_value");
    auto slot = std::make_unique<InFlightSlot>(
        *route->base, route->base->config.scheduler.max_running + options_.max_queue);

    const bool chat = endpoint == Endpoint::kChatCompletions;
    const ResponseMeta meta{
        .endpoint = endpoint,
        .id = std::string(chat ? "chatcmpl-" : "cmpl-") +
              std::to_string(next_response_id_.fetch_add(1, std::memory_order_relaxed)),
        .created = static_cast<int64_t>(std::time(nullptr)),
        .model = call.model};
    auto reader = std::make_unique<OutputReader>(engine, std::move(request));

    if (!call.stream) {
      TokenClock clock;
      ClientWatch watch;
      OutputEvent event;
      Read read;
      while ((read = watch.next(*reader, &event)) == Read::kEvent) {
        if (event.token == kNoToken) continue;
        if (const double gap = clock.tick(); gap >= 0) metrics_.observe_inter_token(route->name, gap);
      }
      // A client that hung up: cancel, so the next engine step frees its KV
      // blocks; finish() returns once it has.
      if (read == Read::kClientGone) reader->cancel();
      const RequestResult result = reader->finish();
      metrics_.observe_finished(route->name, result);
      if (read == Read::kClientGone) throw service_unavailable("the client disconnected");
      if (result.reason == FinishReason::kError || result.reason == FinishReason::kCancelled)
        throw generation_failed(result);
      res.set_content(completion_response(meta, result).dump(), kJson);
      return;
    }

    auto st = std::make_shared<StreamState>();
    st->route = *route;
    st->reader = std::move(reader);
    st->meta = meta;
    st->include_usage = call.include_usage;
    st->slot = std::move(slot);
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, st](size_t, httplib::DataSink& sink) {
          OutputEvent event;
          Read read;
          while ((read = st->watch.next(*st->reader, &event)) == Read::kEvent) {
            if (event.token != kNoToken)
              if (const double gap = st->clock.tick(); gap >= 0)
                metrics_.observe_inter_token(st->route.name, gap);
            if (event.text.empty()) continue;
            const std::string chunk = sse_event(text_chunk(st->meta, event.text, st->first));
            st->first = false;
            if (!sink.write(chunk.data(), chunk.size())) return false;  // client gone
          }
          if (read == Read::kClientGone) return false;
          const RequestResult result = st->reader->finish();
          metrics_.observe_finished(st->route.name, result);
          st->recorded = true;
          std::string tail;
          if (result.reason == FinishReason::kError || result.reason == FinishReason::kCancelled) {
            tail = sse_event(error_body(generation_failed(result)));
          } else {
            tail = sse_event(finish_chunk(st->meta, result));
            if (st->include_usage) tail += sse_event(usage_chunk(st->meta, result));
          }
          tail += kSseDone;
          if (!sink.write(tail.data(), tail.size())) return false;
          sink.done();
          return true;
        },
        [this, st](bool /*success*/) {
          if (st->recorded) return;
          // The client went away mid-stream (or before it started): cancel,
          // and wait for the engine to drop the sequence, so the slot is
          // given back only once its KV blocks are free.
          st->reader->cancel();
          metrics_.observe_finished(st->route.name, st->reader->finish());
          st->recorded = true;
        });
  } catch (const ApiError& e) {
    set_error(res, e);
  }
}

}  // namespace parklock::engine::server
