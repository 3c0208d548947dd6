#include "load_plan.h"

#include <stdexcept>

namespace parklock::loadgen {

int LengthRange::draw(std::mt19937_64& rng) const {
  return min + static_cast<int>(rng() % static_cast<uint64_t>(max - min + 1));
}

LengthRange parse_length_range(const std::string& text) {
  auto number = [&](const std::string& s) {
    size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != s.size() || v < 1)
      throw std::invalid_argument("'" + text + "' is not N or A:B with positive integers");
    return v;
  };
  const auto colon = text.find(':');
  if (colon == std::string::npos) {
    const int n = number(text);
    return {n, n};
  }
  const LengthRange r{number(text.substr(0, colon)), number(text.substr(colon + 1))};
  if (r.min > r.max) throw std::invalid_argument("'" + text + "': A must not exceed B");
  return r;
}

}  // namespace parklock::loadgen
