// Strict JSON reading on nlohmann-json, for documents from outside the
// process (safetensors headers, HTTP request bodies).
//
// nlohmann's parser already rejects comments, trailing commas, leading
// zeros, NaN/Infinity and text after the value. On top of it: duplicate
// object keys are an error (nlohmann would keep the last silently, so a
// header could name one tensor twice), nesting is bounded (hostile input
// must not build arbitrarily deep trees), and members keep document order.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string_view>

#include <nlohmann/json.hpp>

namespace parklock::engine {

using Json = nlohmann::ordered_json;

class JsonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Deep enough for any real header or request; shallow enough to be harmless.
inline constexpr int kMaxJsonDepth = 64;

// Throws JsonError with nlohmann's message (which names the byte position).
Json parse_strict_json(std::string_view text);

// The value of an integer literal that fits in int64, exactly (sizes and
// offsets must not be rounded through a double); nullopt for anything else.
std::optional<int64_t> exact_int64(const Json& value);

}  // namespace parklock::engine
