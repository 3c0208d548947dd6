#include "preload.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string_view>

extern char** environ;

namespace parklock::launcher {
namespace {

constexpr std::string_view kLibraryName = "libparklock.so";

bool has_name(const std::string& entry, std::string_view name) {
  return entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
         entry[name.size()] == '=';
}

// LD_PRELOAD's entries are separated by colons or spaces (ld.so(8)).
std::vector<std::string> split_preload_list(std::string_view list) {
  std::vector<std::string> entries;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find_first_of(": ", start);
    if (end == std::string_view::npos) end = list.size();
    if (end > start) entries.emplace_back(list.substr(start, end - start));
    start = end + 1;
  }
  return entries;
}

bool is_parklock_library(const std::string& path) {
  return std::filesystem::path(path).filename() == kLibraryName;
}

std::string join_preload_list(const std::vector<std::string>& entries) {
  std::string list;
  for (const auto& entry : entries) list += (list.empty() ? "" : ":") + entry;
  return list;
}

// The LD_PRELOAD entries of `environment` other than libparklock.so.
std::vector<std::string> other_preloads(const Environment& environment) {
  std::vector<std::string> kept;
  for (const auto& entry : environment) {
    if (!has_name(entry, "LD_PRELOAD")) continue;
    for (auto& library : split_preload_list(std::string_view(entry).substr(11)))
      if (!is_parklock_library(library)) kept.push_back(library);
  }
  return kept;
}

std::string as_text(const std::string& value) { return value; }
std::string as_text(int value) { return std::to_string(value); }

void remove_variable(Environment& environment, std::string_view name) {
  std::erase_if(environment, [&](const std::string& entry) { return has_name(entry, name); });
}

}  // namespace

void add_stack_options(CLI::App& command, PreloadSettings& settings) {
  command.add_option("--stack-depth", settings.stack_depth,
                     "Frames recorded per contended call-site (default 8)")
      ->check(CLI::Range(1, 32));
  command.add_option("--sample", settings.sample,
                     "Capture a stack for 1 in N contended events (counts and times stay exact)")
      ->check(CLI::PositiveNumber);
}

std::string find_preload_library() {
  std::error_code error;
  auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) throw std::runtime_error("cannot find this executable: " + error.message());
  auto prefix = self.parent_path().parent_path();
  std::vector<std::filesystem::path> candidates = {prefix / PARKLOCK_INSTALL_LIBDIR / kLibraryName,
                                                   prefix / "lib" / kLibraryName};
  for (const auto& candidate : candidates)
    if (std::filesystem::is_regular_file(candidate)) return candidate.string();
  std::string looked;
  for (const auto& candidate : candidates) looked += " " + candidate.string();
  throw std::runtime_error(std::string(kLibraryName) + " is not next to this executable (looked at" +
                           looked + ")");
}

Environment current_environment() {
  Environment environment;
  for (char** entry = environ; *entry != nullptr; ++entry) environment.emplace_back(*entry);
  return environment;
}

Environment without_preload(Environment environment) {
  auto kept = other_preloads(environment);
  std::erase_if(environment, [](const std::string& entry) {
    return entry.starts_with("PARKLOCK_") || has_name(entry, "LD_PRELOAD");
  });
  if (!kept.empty()) environment.push_back("LD_PRELOAD=" + join_preload_list(kept));
  return environment;
}

void set_variable(Environment& environment, const std::string& name, const std::string& value) {
  remove_variable(environment, name);
  environment.push_back(name + "=" + value);
}

Environment with_preload(Environment environment, const std::string& library,
                         const PreloadSettings& settings) {
  auto preloads = other_preloads(environment);
  preloads.insert(preloads.begin(), library);
  set_variable(environment, "LD_PRELOAD", join_preload_list(preloads));
  auto set_if = [&](const char* name, const auto& value) {
    if (value) set_variable(environment, name, as_text(*value));
  };
  set_if("PARKLOCK_METRICS", settings.metrics);
  set_if("PARKLOCK_REPORT", settings.report);
  set_if("PARKLOCK_DUMP", settings.dump);
  if (settings.observe_only) set_variable(environment, "PARKLOCK_LOCKS", "glibc");
  if (settings.record) set_variable(environment, "PARKLOCK_RECORD", "1");
  set_if("PARKLOCK_STACK_DEPTH", settings.stack_depth);
  set_if("PARKLOCK_SAMPLE", settings.sample);
  set_if("PARKLOCK_TOP", settings.top);
  return environment;
}

}  // namespace parklock::launcher
