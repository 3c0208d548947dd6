#include "symbol_names.h"

#include <cxxabi.h>

#include <cstdlib>
#include <cstring>

namespace parklock {

std::string demangle(const char* name) {
  // Only mangled names: __cxa_demangle would read "f" as the type float.
  if (std::strncmp(name, "_Z", 2) != 0) return name;
  int status = 0;
  char* demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || demangled == nullptr) return name;
  std::string result(demangled);
  std::free(demangled);
  return result;
}

const char* base_name(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash != nullptr ? slash + 1 : path;
}

}  // namespace parklock
