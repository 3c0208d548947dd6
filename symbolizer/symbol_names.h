// symbol_names.h: how names read in a frame.
#pragma once

#include <string>

namespace parklock {

// The demangled form of a mangled C++ name (`_ZN2ns3Foo3barEi` ->
// `ns::Foo::bar(int)`); any other name unchanged.
std::string demangle(const char* name);

// The last component of a path.
const char* base_name(const char* path);

}  // namespace parklock
