// The preload's start: reads the PARKLOCK_* settings, starts the contention
// recorder, and loads the exporter module when an output is asked for.
// Without any PARKLOCK_* setting nothing is mapped and no thread is started.
#include <dlfcn.h>
#include <link.h>

#include <cstdlib>
#include <cstring>

#include "exporter_abi.h"
#include "parklock.h"
#include "raw_log.h"
#include "stack_capture.h"

namespace parklock {
namespace {

// The exporter module beside this library: the same directory, in the build
// tree and in the installed layout.
bool exporter_path(char (&out)[4096]) {
  Dl_info info;
  if (!dladdr(reinterpret_cast<void*>(&exporter_path), &info) || !info.dli_fname) return false;
  const char* slash = strrchr(info.dli_fname, '/');
  size_t dir = slash ? size_t(slash - info.dli_fname + 1) : 0;
  if (dir + sizeof kExporterModule > sizeof out) return false;
  memcpy(out, info.dli_fname, dir);
  memcpy(out + dir, kExporterModule, sizeof kExporterModule);
  return true;
}

void start_exporter(const Settings& settings) {
  char path[4096];
  if (!exporter_path(path)) {
    raw_log("parklock: cannot locate ", kExporterModule, "; no metrics, report or dump");
    return;
  }
  void* module = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!module) {
    const char* why = dlerror();
    raw_log("parklock: cannot load ", path, ": ", why ? why : "unknown error", "; no metrics, report or dump");
    return;
  }
  auto start = reinterpret_cast<ExporterStartFn>(dlsym(module, kExporterStartSymbol));
  if (!start) {
    raw_log("parklock: ", path, " has no ", kExporterStartSymbol, "; no metrics, report or dump");
    return;
  }
  // Lives as long as the process: the exporter keeps pointing into it.
  static ExporterContext context;
  context.version = parklock_version();
  context.settings = settings;
  context.sites = &recorder::sites();
  context.counters = &recorder::counters();
  context.recorder_config = &recorder::config();
  context.read_named_locks = &lock_names::read_counts;
  context.ignore_this_thread = &recorder::ignore_this_thread;
  start(&context);
}

__attribute__((constructor)) void start_from_environment() {
  const Settings settings = read_settings([](const char* name) -> const char* { return getenv(name); });
  if (!settings.wants_recording()) return;
  recorder::Config config;
  config.stack_depth = settings.stack_depth;
  config.sample_every = settings.sample_every;
  if (stack_capture_init()) config.capture_stack = &stack_capture;
  else raw_log("parklock: libunwind.so.8 cannot be loaded; contention is recorded without call-sites");
  if (!recorder::start(config)) return;
  if (settings.wants_exporter()) start_exporter(settings);
}

}  // namespace
}  // namespace parklock
