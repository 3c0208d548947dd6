// contention_recorder.h: starting the recorder, and what its readers see.
//
// The lock paths reach the recorder only through contention_probe.h. This
// header is for the code that turns it on (the preload's settings, the
// benchmarks) and for the exporter, which reads the site table and the
// counters at scrape, report and dump time.
#pragma once

#include <cstddef>
#include <cstdint>

#include "contention_probe.h"
#include "site_table.h"

namespace parklock::recorder {

// Fills `pcs` with up to `max_depth` return addresses of the calling
// thread's stack, innermost first, after skipping `skip` frames; returns how
// many. Must not allocate (symbolizer/stack_capture.h's is used: under the
// preload it also drops the frames inside libparklock.so, so the recorder
// passes skip 0; in a binary that links the lock code statically the first
// frames are the lock code's own).
using StackCaptureFn = int (*)(uintptr_t* pcs, int max_depth, int skip);

struct Config {
  int stack_depth = 8;          // frames kept per site, 1..kMaxSiteDepth
  int sample_every = 1;         // take a stack for 1 in N contended events
  size_t site_capacity = 4096;  // a power of two
  StackCaptureFn capture_stack = nullptr;  // nullptr: sites without stacks
};

// Maps the site table (once) and starts recording.
// Call outside any lock; false (and a line on stderr) if the table cannot be
// mapped. Calling it again changes the stack depth and sampling.
bool start(const Config& config);
// Stops recording; the tables keep what they hold.
void stop();

const Config& config();
SiteTable& sites();

// The calling thread's locks are not recorded while `ignored` is set: the
// exporter's own threads and scrapes are not the program's contention.
void ignore_this_thread(bool ignored);

}  // namespace parklock::recorder
