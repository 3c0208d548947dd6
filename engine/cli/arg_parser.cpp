#include "engine/cli/arg_parser.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace parklock::engine::cli {
namespace {

const OptionSpec* find_option(const CommandSpec& spec, const std::string& name) {
  if (name == "help") {
    static const OptionSpec help{"help", "", "show this help", "", false};
    return &help;
  }
  for (const auto& o : spec.options)
    if (o.name == name) return &o;
  return nullptr;
}

}  // namespace

ParsedArgs parse_args(const CommandSpec& spec, std::span<char* const> args) {
  ParsedArgs parsed;
  parsed.spec_ = &spec;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg.rfind("--", 0) != 0 || arg.size() == 2)
      throw UsageError("unexpected argument '" + arg + "' (options start with --)");
    std::string name = arg.substr(2);
    std::string value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      inline_value = true;
    }
    const OptionSpec* opt = find_option(spec, name);
    if (!opt) throw UsageError("unknown option --" + name + " for '" + spec.name + "'");
    if (opt->value_name.empty()) {
      if (inline_value) throw UsageError("option --" + name + " takes no value");
    } else if (!inline_value) {
      if (i + 1 >= args.size()) throw UsageError("option --" + name + " needs a value (" + opt->value_name + ")");
      value = args[++i];
    }
    auto& slot = parsed.values_[name];
    if (!slot.empty() && !opt->repeatable)
      throw UsageError("option --" + name + " given more than once");
    slot.push_back(value);
  }
  return parsed;
}

bool ParsedArgs::has(const std::string& name) const { return values_.count(name) != 0; }

bool ParsedArgs::flag(const std::string& name) const { return has(name); }

std::string ParsedArgs::str(const std::string& name) const {
  auto it = values_.find(name);
  if (it != values_.end()) return it->second.back();
  const OptionSpec* opt = find_option(*spec_, name);
  if (opt && !opt->default_value.empty()) return opt->default_value;
  throw UsageError("missing required option --" + name);
}

std::vector<std::string> ParsedArgs::all(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

int64_t ParsedArgs::integer(const std::string& name, int64_t min, int64_t max) const {
  const std::string text = str(name);
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    throw UsageError("option --" + name + ": '" + text + "' is not an integer");
  if (v < min || v > max) {
    std::ostringstream msg;
    msg << "option --" << name << ": " << v << " is outside [" << min << ", " << max << "]";
    throw UsageError(msg.str());
  }
  return v;
}

double ParsedArgs::real(const std::string& name, double min, double max) const {
  const std::string text = str(name);
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    throw UsageError("option --" + name + ": '" + text + "' is not a number");
  if (v < min || v > max) {
    std::ostringstream msg;
    msg << "option --" << name << ": " << v << " is outside [" << min << ", " << max << "]";
    throw UsageError(msg.str());
  }
  return v;
}

std::string usage(const CommandSpec& spec) {
  std::ostringstream out;
  out << "usage: parklock-engine " << spec.name << " [options]\n\n" << spec.summary << "\n\noptions:\n";
  size_t width = 6;  // "--help"
  for (const auto& o : spec.options)
    width = std::max(width, o.name.size() + 2 + (o.value_name.empty() ? 0 : o.value_name.size() + 1));
  auto line = [&](const std::string& left, const std::string& help) {
    out << "  " << left << std::string(width - left.size() + 2, ' ') << help << "\n";
  };
  for (const auto& o : spec.options) {
    std::string left = "--" + o.name + (o.value_name.empty() ? "" : " " + o.value_name);
    std::string help = o.help;
    if (!o.default_value.empty()) help += " (default " + o.default_value + ")";
    if (o.repeatable) help += " (repeatable)";
    line(left, help);
  }
  line("--help", "show this help");
  return out.str();
}

}  // namespace parklock::engine::cli
