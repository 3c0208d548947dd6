// fixture_api.h: what the fixture libraries (fixture_lib.cpp, built with
// debug info, without it, and fully stripped) tell the tests.
#pragma once

#include <cstdint>

using CaptureFunction = int (*)(uintptr_t* pcs, int max_depth, int skip);

// A capture made by fixture code: pcs[0] is the return address into it.
struct FixtureCall {
  int frames = 0;
  uintptr_t pcs[8] = {};
  int line = 0;  // __LINE__ of the call to `capture`
};

struct FixtureApi {
  // fixture::Widget::call_through(CaptureFunction), a member function.
  FixtureCall (*call_from_member)(CaptureFunction capture);
  // A function with internal linkage: no dynamic symbol names it.
  FixtureCall (*call_from_internal)(CaptureFunction capture);
  // The library's file-static `g_something_mutex`.
  const void* something_mutex;
};

extern "C" const FixtureApi* symbolizer_fixture_api();
