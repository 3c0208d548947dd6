// A small, strict JSON parser (RFC 8259) for safetensors headers. Strict
// means: no comments, no trailing commas, no duplicate object keys, no
// leading zeros, no NaN/Infinity, no text after the value; a bounded nesting
// depth. Errors throw JsonError with the byte offset of the problem.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parklock::engine {

class JsonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class JsonValue {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  using Member = std::pair<std::string, JsonValue>;

  static JsonValue parse(std::string_view text);

  Kind kind() const { return kind_; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_string() const { return kind_ == Kind::kString; }

  // Accessors throw JsonError when the kind does not match.
  bool as_bool() const;
  double as_double() const;
  // Only for numbers written as integers (no fraction or exponent) that fit
  // in int64: sizes and offsets must be exact, not rounded through a double.
  int64_t as_int64() const;
  const std::string& as_string() const;
  const std::vector<JsonValue>& as_array() const;
  const std::vector<Member>& as_object() const;  // in document order
  // The member named key, or nullptr (objects only).
  const JsonValue* find(std::string_view key) const;

  static const char* kind_name(Kind kind);

 private:
  friend class JsonParser;
  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::optional<int64_t> integer_;  // set when the number was an exact integer literal
  std::string string_;
  std::vector<JsonValue> array_;
  std::vector<Member> object_;
};

}  // namespace parklock::engine
