// A shared library the tests load with dlopen, in three builds: with debug
// info, with it stripped (objcopy --strip-debug), and fully stripped.
#include <mutex>

#include "fixture_api.h"

namespace {

std::mutex g_something_mutex;

__attribute__((noipa)) FixtureCall internal_call(CaptureFunction capture) {
  FixtureCall call;
  call.line = (call.frames = capture(call.pcs, 8, 0), __LINE__);
  return call;
}

}  // namespace

namespace fixture {

struct Widget {
  static FixtureCall call_through(CaptureFunction capture);
};

__attribute__((noipa)) FixtureCall Widget::call_through(CaptureFunction capture) {
  FixtureCall call;
  call.line = (call.frames = capture(call.pcs, 8, 0), __LINE__);
  return call;
}

}  // namespace fixture

extern "C" __attribute__((visibility("default"))) const FixtureApi* symbolizer_fixture_api() {
  static const FixtureApi api = {
      fixture::Widget::call_through,
      internal_call,
      &g_something_mutex,
  };
  return &api;
}
