// How function names are shortened for labels, on names as the demangler
// writes them.
#include "symbol_names.h"

#include <gtest/gtest.h>

namespace {

using parklock::demangle;
using parklock::without_parameters;

TEST(SymbolNames, DemanglesOnlyMangledNames) {
  EXPECT_EQ(demangle("_ZN2ns3Foo3barEi"), "ns::Foo::bar(int)");
  EXPECT_EQ(demangle("_ZZ6workervE1m"), "worker()::m");
  EXPECT_EQ(demangle("f"), "f");  // not the type float
  EXPECT_EQ(demangle("main"), "main");
  EXPECT_EQ(demangle("_Znot_valid"), "_Znot_valid");
}

TEST(SymbolNames, DemangleDropsSymbolVersions) {
  EXPECT_EQ(demangle("__libc_start_main@@GLIBC_2.34"), "__libc_start_main");
  EXPECT_EQ(demangle("memcpy@GLIBC_2.2.5"), "memcpy");
  EXPECT_EQ(demangle("_ZNSt6thread4joinEv@@GLIBCXX_3.4.11"), "std::thread::join()");
}

TEST(SymbolNames, WithoutParametersDropsTheLastParameterList) {
  EXPECT_EQ(without_parameters("ns::Foo::bar(int)"), "ns::Foo::bar");
  EXPECT_EQ(without_parameters("worker()"), "worker");
  EXPECT_EQ(without_parameters("hold(pthread_mutex_t*, std::vector<int, std::allocator<int> > const&)"),
            "hold");
  EXPECT_EQ(without_parameters("(anonymous namespace)::call(int (*)(unsigned long*, int, int))"),
            "(anonymous namespace)::call");
  EXPECT_EQ(without_parameters("std::function<void (int)>::operator()(int) const"),
            "std::function<void (int)>::operator()");
}

TEST(SymbolNames, WithoutParametersDropsQualifiersAndClones) {
  EXPECT_EQ(without_parameters("Pool::get() const"), "Pool::get");
  EXPECT_EQ(without_parameters("Pool::take() &&"), "Pool::take");
  EXPECT_EQ(without_parameters("Pool::size() const &"), "Pool::size");
  EXPECT_EQ(without_parameters("Engine::step(int) [clone .cold]"), "Engine::step");
  EXPECT_EQ(without_parameters("run()::{lambda()#1}::operator()() const"),
            "run()::{lambda()#1}::operator()");
}

TEST(SymbolNames, WithoutParametersKeepsNamesWithoutThem) {
  EXPECT_EQ(without_parameters("main"), "main");
  EXPECT_EQ(without_parameters("getenv"), "getenv");
  EXPECT_EQ(without_parameters("late_capture"), "late_capture");
  EXPECT_EQ(without_parameters("unbalanced)"), "unbalanced)");
  EXPECT_EQ(without_parameters(""), "");
}

}  // namespace
