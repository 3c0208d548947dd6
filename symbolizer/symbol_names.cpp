#include "symbol_names.h"

#include <cxxabi.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

namespace parklock {

std::string demangle(const char* name) {
  // Versioned names appear in the .symtab of shared libraries (glibc's).
  const std::string unversioned(name, std::strcspn(name, "@"));
  // Only mangled names: __cxa_demangle would read "f" as the type float.
  if (unversioned.rfind("_Z", 0) != 0) return unversioned;
  int status = 0;
  char* demangled = abi::__cxa_demangle(unversioned.c_str(), nullptr, nullptr, &status);
  if (status != 0 || demangled == nullptr) return unversioned;
  std::string result(demangled);
  std::free(demangled);
  return result;
}

std::string without_parameters(const std::string& function) {
  std::string_view name = function;
  // What the demangler puts after the parameter list.
  constexpr std::string_view kSuffixes[] = {" const", " volatile", " &&", " &", " noexcept"};
  for (bool trimmed = true; trimmed;) {
    trimmed = false;
    if (name.ends_with(']')) {
      const size_t clone = name.rfind(" [clone ");
      if (clone != std::string_view::npos) {
        name.remove_suffix(name.size() - clone);
        trimmed = true;
      }
    }
    for (std::string_view suffix : kSuffixes) {
      if (name.ends_with(suffix)) {
        name.remove_suffix(suffix.size());
        trimmed = true;
      }
    }
  }
  if (!name.ends_with(')')) return function;
  // Back to the '(' that opens the last parenthesized group; parentheses in
  // template arguments and parameter types are balanced.
  int depth = 0;
  for (size_t i = name.size(); i-- > 0;) {
    if (name[i] == ')') ++depth;
    if (name[i] == '(' && --depth == 0) {
      return i > 0 ? std::string(name.substr(0, i)) : function;
    }
  }
  return function;
}

const char* base_name(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash != nullptr ? slash + 1 : path;
}

}  // namespace parklock
