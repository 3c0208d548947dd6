#include "engine/model/strict_json.h"

#include <limits>
#include <set>
#include <string>
#include <vector>

namespace parklock::engine {

Json parse_strict_json(std::string_view text) {
  // One entry per open container: the keys seen so far (arrays have none).
  std::vector<std::optional<std::set<std::string>>> open;
  auto check = [&open](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        if (open.size() >= static_cast<size_t>(kMaxJsonDepth))
          throw JsonError("JSON nesting deeper than " + std::to_string(kMaxJsonDepth));
        open.emplace_back();
        if (event == Json::parse_event_t::object_start) open.back().emplace();
        break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        open.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!open.back()->insert(parsed.get<std::string>()).second)
          throw JsonError("duplicate key \"" + parsed.get<std::string>() + "\"");
        break;
      case Json::parse_event_t::value:
        break;
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), check);
  } catch (const Json::parse_error& e) {
    throw JsonError(e.what());
  }
}

std::optional<int64_t> exact_int64(const Json& value) {
  if (value.is_number_unsigned()) {
    const auto u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  return std::nullopt;
}

}  // namespace parklock::engine
