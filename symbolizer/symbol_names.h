// symbol_names.h: how names read in a frame.
#pragma once

#include <string>

namespace parklock {

// A symbol's name as a frame shows it: without a symbol version
// (`__libc_start_main@@GLIBC_2.34` -> `__libc_start_main`), demangled if it is
// a mangled C++ name (`_ZN2ns3Foo3barEi` -> `ns::Foo::bar(int)`).
std::string demangle(const char* name);

// A demangled function name without its parameter list and what follows it
// (cv- and ref-qualifiers, "[clone .cold]"): "ns::Foo::bar(int) const" ->
// "ns::Foo::bar", "f()::{lambda()#1}::operator()() const" ->
// "f()::{lambda()#1}::operator()". Names without one come back unchanged.
std::string without_parameters(const std::string& function);

// The last component of a path.
const char* base_name(const char* path);

}  // namespace parklock
