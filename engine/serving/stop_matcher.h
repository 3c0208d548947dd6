// Finds stop strings in a request's decoded output, as it streams.
//
// Text that might be the start of a stop string is held back until the
// next piece decides it, so a client never sees part of a stop string: the
// output ends right before the first occurrence.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace parklock::engine {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);

  struct Result {
    std::string emit;      // text now safe to stream to the client
    bool stopped = false;  // a stop string was found; generation ends
  };

  // Appends a decoded piece of output text.
  Result append(std::string_view piece);

  // The held-back text, at the end of generation for a reason other than a
  // stop string (length, EOS).
  std::string flush();

  // The whole output text so far, stop string excluded once stopped.
  const std::string& text() const { return text_; }

 private:
  std::vector<std::string> stops_;
  size_t max_stop_len_ = 0;
  std::string text_;
  size_t emitted_ = 0;  // text_[0, emitted_) has been returned
  bool stopped_ = false;
};

}  // namespace parklock::engine
