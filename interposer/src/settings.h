// settings.h: the PARKLOCK_* environment variables the preload reads at start.
//
//   PARKLOCK_METRICS=[host:]port   Prometheus endpoint (host 127.0.0.1 unless given)
//   PARKLOCK_REPORT=stderr|PATH    contention report at exit
//   PARKLOCK_DUMP=PATH             everything, as JSON, at exit
//   PARKLOCK_RECORD=1              record without any output (A/B runs)
//   PARKLOCK_LOCKS=parklock|glibc  glibc: keep glibc's locks, only observe them
//   PARKLOCK_STACK_DEPTH=N         frames per call-site, 1..32 (8)
//   PARKLOCK_SAMPLE=N              take a stack for 1 in N contended events (1)
//   PARKLOCK_TOP=K                 call-sites exported by name, the rest as "other" (50)
//
// A value that does not parse is one line on stderr, and the default
// applies: the host program runs on whatever it set.
#pragma once

#include <cstddef>

namespace parklock {

struct Settings {
  static constexpr size_t kMaxText = 256;
  char metrics[kMaxText] = "";  // "host:port", or "" for no endpoint
  char report[kMaxText] = "";   // "stderr", a path, or ""
  char dump[kMaxText] = "";
  bool record_only = false;
  bool observe_only = false;  // PARKLOCK_LOCKS=glibc, as lock_mode.h read it
  int stack_depth = 8;
  int sample_every = 1;
  int top_k = 50;

  bool wants_exporter() const { return metrics[0] || report[0] || dump[0]; }
  bool wants_recording() const { return wants_exporter() || record_only; }
};

using GetenvFn = const char* (*)(const char* name);

// Reads the settings through `getenv` (a parameter, for tests); warnings go
// to stderr with raw writes (this runs before the program's main).
Settings read_settings(GetenvFn getenv);

}  // namespace parklock
