// exporter_abi.h: what libparklock.so hands the exporter module it dlopens.
//
// The heavy half of parklock (prometheus-cpp and its web server, the DWARF
// symbolizer, JSON) lives in libparklock_exporter.so, next to the preload,
// and is loaded only when PARKLOCK_METRICS, _REPORT or _DUMP asks for it. It
// reads the recorder's tables in place, through the pointers below; both
// sides are built from this tree, and kExporterAbiVersion guards a mismatch.
#pragma once

#include "contention_recorder.h"
#include "lock_names.h"
#include "settings.h"
#include "site_table.h"

namespace parklock {

inline constexpr int kExporterAbiVersion = 3;
inline constexpr char kExporterModule[] = "libparklock_exporter.so";
inline constexpr char kExporterStartSymbol[] = "parklock_exporter_start";

struct ExporterContext {
  int abi_version = kExporterAbiVersion;
  const char* version = "";  // parklock's
  Settings settings;
  SiteTable* sites = nullptr;
  recorder::Counters* counters = nullptr;
  const recorder::Config* recorder_config = nullptr;
  // lock_names::read_counts: the named locks' acquisitions.
  size_t (*read_named_locks)(lock_names::NamedLockCount* out, size_t max) = nullptr;
  // recorder::ignore_this_thread: the exporter's threads keep out of the tables.
  void (*ignore_this_thread)(bool ignored) = nullptr;
};

// The module's entry point: starts the endpoint and arranges the exit
// report and dump. Returns 0, or -1 after a line on stderr (the host runs on).
using ExporterStartFn = int (*)(const ExporterContext* context);

}  // namespace parklock
