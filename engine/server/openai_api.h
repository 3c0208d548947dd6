// The OpenAI-compatible wire format: request bodies of /v1/completions and
// /v1/chat/completions turned into engine requests, and engine results
// turned into response bodies and SSE chunks. No I/O here (api_server.h
// does the HTTP side).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/model/strict_json.h"
#include "engine/serving/request.h"
#include "engine/serving/sampling_params.h"

namespace parklock::engine::server {

// A request the API answers with an error: HTTP status, OpenAI error type
// and code, and a message for the client.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string type, std::string code, const std::string& message)
      : std::runtime_error(message), status(status), type(std::move(type)), code(std::move(code)) {}
  int status;
  std::string type;  // "invalid_request_error", "not_found_error", ...
  std::string code;  // "invalid_value", "model_not_found", ...
};

ApiError bad_request(const std::string& message, const std::string& code = "invalid_value");

// {"error": {"message", "type", "param": null, "code"}}
Json error_body(const ApiError& e);

enum class Endpoint { kCompletions, kChatCompletions };

// A parsed, type-checked completion request.
struct CompletionCall {
  Endpoint endpoint = Endpoint::kCompletions;
  std::string model;
  // The prompt as text (tokenised by the handler, BOS prepended), or as
  // token ids given by the client (used as they are).
  std::string prompt_text;
  std::vector<int32_t> prompt_tokens;
  bool prompt_is_tokens = false;
  SamplingParams sampling;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
};

// Throws ApiError (400) naming the field for malformed JSON, wrong types,
// missing or out-of-range fields, and unsupported values (n != 1).
CompletionCall parse_completion_call(Endpoint endpoint, const std::string& body);

// The prompt a chat request's messages become: "<|role|>\ncontent\n" per
// message, then "<|assistant|>\n" (the byte tokenizer has no chat template).
std::string chat_prompt(const Json& messages);

// Identity of one response: every chunk of a stream carries the same.
struct ResponseMeta {
  Endpoint endpoint = Endpoint::kCompletions;
  std::string id;     // "cmpl-<n>" / "chatcmpl-<n>"
  int64_t created = 0;
  std::string model;
};

// "stop" or "length" (what OpenAI clients expect).
const char* openai_finish_reason(FinishReason reason);

Json usage_json(const RequestResult& r);
// The non-streamed response.
Json completion_response(const ResponseMeta& meta, const RequestResult& r);
// One streamed piece of text (first: the chat role is announced with it).
Json text_chunk(const ResponseMeta& meta, const std::string& text, bool first);
// The chunk that carries the finish reason.
Json finish_chunk(const ResponseMeta& meta, const RequestResult& r);
// stream_options.include_usage: the last chunk, no choices.
Json usage_chunk(const ResponseMeta& meta, const RequestResult& r);

// "data: <json>\n\n", and the stream's end, "data: [DONE]\n\n".
std::string sse_event(const Json& payload);
inline constexpr const char* kSseDone = "data: [DONE]\n\n";

}  // namespace parklock::engine::server
