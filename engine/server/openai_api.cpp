#include "engine/server/openai_api.h"

#include <cmath>
#include <limits>

namespace parklock::engine::server {
namespace {

const char* object_name(Endpoint e, bool chunk) {
  if (e == Endpoint::kChatCompletions) return chunk ? "chat.completion.chunk" : "chat.completion";
  return "text_completion";
}

// Field readers: absent or null leaves the default; a wrong type or value
// is a 400 that names the field.
class Fields {
 public:
  explicit Fields(const Json& body) : body_(body) {}

  const Json* get(const char* name) const {
    const auto it = body_.find(name);
    return it == body_.end() || it->is_null() ? nullptr : &*it;
  }

  void integer(const char* name, int64_t min, int64_t max, int64_t* out) const {
    const Json* v = get(name);
    if (!v) return;
    const auto n = exact_int64(*v);
    if (!n) throw bad_request(std::string("'") + name + "' must be an integer", "invalid_type");
    if (*n < min || *n > max)
      throw bad_request(std::string("'") + name + "' must be in [" + std::to_string(min) + ", " +
                        std::to_string(max) + "], got " + std::to_string(*n));
    *out = *n;
  }

  void number(const char* name, double min, double max, bool min_open, float* out) const {
    const Json* v = get(name);
    if (!v) return;
    if (!v->is_number()) throw bad_request(std::string("'") + name + "' must be a number", "invalid_type");
    const double x = v->get<double>();
    if (!(min_open ? x > min : x >= min) || !(x <= max))
      throw bad_request(std::string("'") + name + "' must be in " + (min_open ? "(" : "[") +
                        std::to_string(min) + ", " + std::to_string(max) + "], got " +
                        v->dump());
    *out = static_cast<float>(x);
  }

  void boolean(const char* name, bool* out) const {
    const Json* v = get(name);
    if (!v) return;
    if (!v->is_boolean()) throw bad_request(std::string("'") + name + "' must be a boolean", "invalid_type");
    *out = v->get<bool>();
  }

 private:
  const Json& body_;
};

std::vector<std::string> parse_stop(const Json& stop) {
  if (stop.is_string()) return {stop.get<std::string>()};
  if (!stop.is_array()) throw bad_request("'stop' must be a string or an array of strings", "invalid_type");
  if (stop.size() > 4) throw bad_request("'stop' takes at most 4 strings");
  std::vector<std::string> out;
  for (const Json& s : stop) {
    if (!s.is_string()) throw bad_request("'stop' must be a string or an array of strings", "invalid_type");
    out.push_back(s.get<std::string>());
  }
  return out;
}

void parse_prompt(const Json& prompt, CompletionCall& call) {
  auto tokens = [&](const Json& array) {
    for (const Json& t : array) {
      const auto id = exact_int64(t);
      if (!id || *id < 0 || *id > std::numeric_limits<int32_t>::max())
        throw bad_request("'prompt' token ids must be non-negative integers", "invalid_type");
      call.prompt_tokens.push_back(static_cast<int32_t>(*id));
    }
    call.prompt_is_tokens = true;
  };
  if (prompt.is_string()) {
    call.prompt_text = prompt.get<std::string>();
  } else if (prompt.is_array() && prompt.size() == 1 && prompt[0].is_string()) {
    call.prompt_text = prompt[0].get<std::string>();
  } else if (prompt.is_array() && prompt.size() == 1 && prompt[0].is_array()) {
    tokens(prompt[0]);
  } else if (prompt.is_array() && !prompt.empty() && !prompt[0].is_string() && !prompt[0].is_array()) {
    tokens(prompt);
  } else if (prompt.is_array() && prompt.size() > 1) {
    throw bad_request("only one prompt per request is supported");
  } else {
    throw bad_request("'prompt' must be a string or an array of token ids", "invalid_type");
  }
  if (call.prompt_is_tokens ? call.prompt_tokens.empty() : call.prompt_text.empty())
    throw bad_request("'prompt' must not be empty");
}

}  // namespace

ApiError bad_request(const std::string& message, const std::string& code) {
  return ApiError(400, "invalid_request_error", code, message);
}

Json error_body(const ApiError& e) {
  return {{"error", {{"message", e.what()}, {"type", e.type}, {"param", nullptr}, {"code", e.code}}}};
}

std::string chat_prompt(const Json& messages) {
  if (!messages.is_array() || messages.empty())
    throw bad_request("'messages' must be a non-empty array", "invalid_type");
  std::string prompt;
  for (const Json& m : messages) {
    if (!m.is_object()) throw bad_request("each message must be an object", "invalid_type");
    const auto role = m.find("role");
    const auto content = m.find("content");
    if (role == m.end() || !role->is_string())
      throw bad_request("each message needs a string 'role'", "invalid_type");
    const std::string r = role->get<std::string>();
    if (r != "system" && r != "user" && r != "assistant")
      throw bad_request("message role must be system, user or assistant, got '" + r + "'");
    if (content == m.end() || !content->is_string())
      throw bad_request("each message needs a string 'content'", "invalid_type");
    prompt += "<|" + r + "|>\n" + content->get<std::string>() + "\n";
  }
  return prompt + "<|assistant|>\n";
}

CompletionCall parse_completion_call(Endpoint endpoint, const std::string& body) {
  Json json;
  try {
    json = parse_strict_json(body);
  } catch (const JsonError& e) {
    throw bad_request(std::string("request body is not valid JSON: ") + e.what(), "invalid_json");
  }
  if (!json.is_object()) throw bad_request("request body must be a JSON object", "invalid_json");
  const Fields f(json);
  CompletionCall call;
  call.endpoint = endpoint;

  const Json* model = f.get("model");
  if (!model) throw bad_request("'model' is required", "missing_field");
  if (!model->is_string()) throw bad_request("'model' must be a string", "invalid_type");
  call.model = model->get<std::string>();

  if (endpoint == Endpoint::kCompletions) {
    const Json* prompt = f.get("prompt");
    if (!prompt) throw bad_request("'prompt' is required", "missing_field");
    parse_prompt(*prompt, call);
  } else {
    const Json* messages = f.get("messages");
    if (!messages) throw bad_request("'messages' is required", "missing_field");
    call.prompt_text = chat_prompt(*messages);
  }

  SamplingParams& s = call.sampling;
  s.temperature = 1.0f;  // OpenAI's default; 0 asks for greedy decoding
  int64_t max_tokens = s.max_tokens;
  f.integer(endpoint == Endpoint::kChatCompletions && f.get("max_completion_tokens")
                ? "max_completion_tokens"
                : "max_tokens",
            1, 1 << 20, &max_tokens);
  s.max_tokens = static_cast<int>(max_tokens);
  f.number("temperature", 0.0, 2.0, false, &s.temperature);
  f.number("top_p", 0.0, 1.0, true, &s.top_p);
  int64_t top_k = 0;
  f.integer("top_k", -1, 1 << 20, &top_k);  // vLLM: -1 (or 0) = off
  s.top_k = top_k < 0 ? 0 : static_cast<int>(top_k);
  f.number("repetition_penalty", 0.0, 100.0, true, &s.repetition_penalty);
  int64_t seed = -1;
  f.integer("seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), &seed);
  if (f.get("seed")) s.seed = static_cast<uint64_t>(seed);
  if (const Json* stop = f.get("stop")) s.stop = parse_stop(*stop);
  f.boolean("ignore_eos", &s.ignore_eos);  // vLLM's extension, used by benchmarks
  int64_t n = 1;
  f.integer("n", 1, 1 << 20, &n);
  if (n != 1) throw bad_request("only n = 1 is supported", "unsupported_value");
  f.boolean("stream", &call.stream);
  if (const Json* options = f.get("stream_options")) {
    if (!options->is_object()) throw bad_request("'stream_options' must be an object", "invalid_type");
    Fields(*options).boolean("include_usage", &call.include_usage);
  }
  return call;
}

const char* openai_finish_reason(FinishReason reason) {
  return reason == FinishReason::kLength ? "length" : "stop";
}

Json usage_json(const RequestResult& r) {
  const int completion = static_cast<int>(r.tokens.size());
  return {{"prompt_tokens", r.prompt_tokens},
          {"completion_tokens", completion},
          {"total_tokens", r.prompt_tokens + completion}};
}

namespace {

Json envelope(const ResponseMeta& meta, bool chunk) {
  return {{"id", meta.id},
          {"object", object_name(meta.endpoint, chunk)},
          {"created", meta.created},
          {"model", meta.model}};
}

}  // namespace

Json completion_response(const ResponseMeta& meta, const RequestResult& r) {
  Json out = envelope(meta, false);
  Json choice = {{"index", 0}};
  if (meta.endpoint == Endpoint::kChatCompletions)
    choice["message"] = {{"role", "assistant"}, {"content", r.text}};
  else
    choice.update({{"text", r.text}, {"logprobs", nullptr}});
  choice["finish_reason"] = openai_finish_reason(r.reason);
  out["choices"] = Json::array({choice});
  out["usage"] = usage_json(r);
  return out;
}

Json text_chunk(const ResponseMeta& meta, const std::string& text, bool first) {
  Json out = envelope(meta, true);
  Json choice = {{"index", 0}};
  if (meta.endpoint == Endpoint::kChatCompletions) {
    Json delta = {{"content", text}};
    if (first) delta["role"] = "assistant";
    choice["delta"] = delta;
  } else {
    choice.update({{"text", text}, {"logprobs", nullptr}});
  }
  choice["finish_reason"] = nullptr;
  out["choices"] = Json::array({choice});
  return out;
}

Json finish_chunk(const ResponseMeta& meta, const RequestResult& r) {
  Json out = envelope(meta, true);
  Json choice = {{"index", 0}};
  if (meta.endpoint == Endpoint::kChatCompletions)
    choice["delta"] = Json::object();
  else
    choice.update({{"text", ""}, {"logprobs", nullptr}});
  choice["finish_reason"] = openai_finish_reason(r.reason);
  out["choices"] = Json::array({choice});
  return out;
}

Json usage_chunk(const ResponseMeta& meta, const RequestResult& r) {
  Json out = envelope(meta, true);
  out["choices"] = Json::array();
  out["usage"] = usage_json(r);
  return out;
}

std::string sse_event(const Json& payload) {
  // Invalid UTF-8 cannot reach here (Utf8StreamDecoder), but never throw
  // mid-stream over it: replace instead.
  return "data: " + payload.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n\n";
}

}  // namespace parklock::engine::server
