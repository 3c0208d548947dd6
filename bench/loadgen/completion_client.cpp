#include "completion_client.h"

namespace parklock::loadgen {
namespace {

// Takes what one SSE payload (or a whole non-streamed body) says.
void absorb(const nlohmann::json& j, CompletionOutcome& out, Clock::time_point now) {
  if (!j.is_object()) return;
  if (j.contains("error") && j["error"].is_object()) {
    out.error = j["error"].value("message", "error without a message");
    return;
  }
  if (j.contains("choices") && j["choices"].is_array() && !j["choices"].empty()) {
    const auto& c = j["choices"][0];
    std::string piece;
    if (c.contains("text") && c["text"].is_string()) piece = c["text"].get<std::string>();
    if (c.contains("delta") && c["delta"].contains("content") && c["delta"]["content"].is_string())
      piece = c["delta"]["content"].get<std::string>();
    if (c.contains("message") && c["message"].contains("content"))
      piece = c["message"]["content"].get<std::string>();
    if (!piece.empty()) {
      out.text += piece;
      out.chunk_times.push_back(now);
    }
    if (c.contains("finish_reason") && c["finish_reason"].is_string())
      out.finish_reason = c["finish_reason"].get<std::string>();
  }
  if (j.contains("usage") && j["usage"].is_object()) {
    out.prompt_tokens = j["usage"].value("prompt_tokens", -1);
    out.completion_tokens = j["usage"].value("completion_tokens", -1);
  }
}

}  // namespace

CompletionClient::CompletionClient(const std::string& base_url, std::string api_key, int timeout_s)
    : http_(std::make_unique<httplib::Client>(base_url)), api_key_(std::move(api_key)) {
  http_->set_keep_alive(true);
  http_->set_tcp_nodelay(true);  // a request goes out whole, not held back by Nagle
  http_->set_read_timeout(timeout_s, 0);
  http_->set_write_timeout(timeout_s, 0);
  http_->set_connection_timeout(10, 0);
}

CompletionOutcome CompletionClient::post(
    const std::string& path, const nlohmann::json& body,
    const std::function<bool(const CompletionOutcome&)>& keep_reading) {
  CompletionOutcome out;
  const bool stream = body.value("stream", false);
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  if (!api_key_.empty()) req.set_header("Authorization", "Bearer " + api_key_);
  std::string pending;  // SSE bytes not yet split into events
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    if (!stream) {
      out.body.append(data, len);
      return true;
    }
    pending.append(data, len);
    const Clock::time_point now = Clock::now();
    for (size_t end; (end = pending.find("\n\n")) != std::string::npos;) {
      const std::string event = pending.substr(0, end);
      pending.erase(0, end + 2);
      if (event.rfind("data: ", 0) != 0) continue;
      const std::string payload = event.substr(6);
      if (payload == "[DONE]") {
        out.done = true;
        continue;
      }
      const size_t pieces = out.chunk_times.size();
      try {
        nlohmann::json j = nlohmann::json::parse(payload);
        absorb(j, out, now);
        out.events.push_back(std::move(j));
      } catch (const nlohmann::json::exception& e) {
        out.error = std::string("bad SSE payload: ") + e.what();
        return false;
      }
      if (keep_reading && out.chunk_times.size() > pieces && !keep_reading(out)) return false;
    }
    return true;
  };
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  out.start = Clock::now();
  const bool sent = http_->send(req, res, error);
  out.end = Clock::now();
  if (!sent) {
    out.error = "transport: " + httplib::to_string(error);
    out.status = res.status > 0 ? res.status : 0;
    return out;
  }
  out.status = res.status;
  out.retry_after = res.get_header_value("Retry-After");
  if (!stream || res.status != 200) {
    if (out.body.empty() && stream) out.body = pending;
    try {
      absorb(nlohmann::json::parse(out.body), out, out.end);
    } catch (const nlohmann::json::exception&) {
      if (res.status != 200) out.error = "HTTP " + std::to_string(res.status);
    }
    if (res.status != 200 && out.error.empty()) out.error = "HTTP " + std::to_string(res.status);
  } else if (!out.done && out.error.empty()) {
    out.error = "stream ended without [DONE]";
  }
  return out;
}

}  // namespace parklock::loadgen
