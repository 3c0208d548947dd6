#include "engine/serving/stop_matcher.h"

#include <algorithm>

namespace parklock::engine {

StopMatcher::StopMatcher(std::vector<std::string> stops) {
  for (auto& s : stops)
    if (!s.empty()) stops_.push_back(std::move(s));  // "" would stop at once
  for (const auto& s : stops_) max_stop_len_ = std::max(max_stop_len_, s.size());
}

StopMatcher::Result StopMatcher::append(std::string_view piece) {
  Result result;
  if (stopped_) {
    result.stopped = true;
    return result;
  }
  // A new match must end inside the new piece, so it starts no earlier than
  // max_stop_len_ - 1 bytes before it.
  const size_t old_size = text_.size();
  text_.append(piece);
  const size_t scan_from = old_size >= max_stop_len_ ? old_size - max_stop_len_ + 1 : 0;
  size_t first_match = std::string::npos;
  for (const auto& s : stops_) first_match = std::min(first_match, text_.find(s, scan_from));
  if (first_match != std::string::npos) {
    text_.resize(first_match);
    stopped_ = true;
    result.stopped = true;
    if (first_match > emitted_) result.emit = text_.substr(emitted_);
    emitted_ = text_.size();
    return result;
  }
  // Hold back the longest suffix that is a proper prefix of a stop string.
  size_t hold = 0;
  for (const auto& s : stops_) {
    for (size_t len = std::min(s.size() - 1, text_.size()); len > hold; --len) {
      if (std::string_view(text_).substr(text_.size() - len) == std::string_view(s).substr(0, len)) {
        hold = len;
        break;
      }
    }
  }
  const size_t safe_end = text_.size() - hold;
  if (safe_end > emitted_) {
    result.emit = text_.substr(emitted_, safe_end - emitted_);
    emitted_ = safe_end;
  }
  return result;
}

std::string StopMatcher::flush() {
  std::string rest = text_.substr(std::min(emitted_, text_.size()));
  emitted_ = text_.size();
  return rest;
}

}  // namespace parklock::engine
