// `{name}` placeholders in the A/B's command lines: {port}, {url} and {json}
// are filled in per run. Braces that name no known placeholder are left as
// they are (a shell's or a JSON argument's own).
#pragma once

#include <map>
#include <string>

namespace parklock::launcher {

using Placeholders = std::map<std::string, std::string>;

std::string substitute(const std::string& text, const Placeholders& values);

// Whether `text` mentions {name}.
bool mentions(const std::string& text, const std::string& name);

}  // namespace parklock::launcher
