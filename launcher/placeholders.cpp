#include "placeholders.h"

namespace parklock::launcher {

std::string substitute(const std::string& text, const Placeholders& values) {
  std::string result = text;
  for (const auto& [name, value] : values) {
    const std::string marker = "{" + name + "}";
    for (size_t at = result.find(marker); at != std::string::npos;
         at = result.find(marker, at + value.size()))
      result.replace(at, marker.size(), value);
  }
  return result;
}

bool mentions(const std::string& text, const std::string& name) {
  return text.find("{" + name + "}") != std::string::npos;
}

}  // namespace parklock::launcher
