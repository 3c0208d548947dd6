// libparklock_exporter.so: the Prometheus endpoint, the exit report and the
// dump, started by the preload (preload_start.cpp) through
// parklock_exporter_start.
//
// Everything here is created once and never destroyed: the process may exit
// while a scrape is running on one of the endpoint's threads, and static
// destructors would pull the symbolizer and the server from under it
// (metrics_endpoint.h says how exit waits for a scrape in progress).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "dump_json.h"
#include "exporter_abi.h"
#include "host_exit_watch.h"
#include "metrics_endpoint.h"
#include "metric_families.h"
#include "report_table.h"
#include "snapshot_worker.h"

namespace parklock {
namespace {

const ExporterContext* g_context = nullptr;
SnapshotWorker* g_worker = nullptr;
pid_t g_started_pid = 0;

void write_text(const char* target, const std::string& text, const char* what) {
  if (std::string(target) == "stderr") {
    std::fwrite(text.data(), 1, text.size(), stderr);
    return;
  }
  std::ofstream out(target, std::ios::trunc);
  out << text;
  if (!out) std::fprintf(stderr, "parklock: cannot write the %s to %s\n", what, target);
}

// At exit, in the process that started the exporter (a fork child that
// exits inherits the handler but not the job).
void write_exit_outputs() {
  if (getpid() != g_started_pid) return;
  try {
    const Settings& s = g_context->settings;
    nlohmann::json dump =
        dump_json(g_worker->take(), {g_context->version, s.observe_only, long(g_started_pid)});
    if (s.dump[0]) write_text(s.dump, dump.dump(1) + "\n", "dump");
    if (s.report[0]) write_text(s.report, render_report(dump, s.top_k), "report");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parklock: no exit report: %s\n", e.what());
  }
}

void start_endpoint(const ExporterContext& context) {
  try {
    const ExportOptions options{context.settings.top_k, context.version, context.settings.observe_only};
    const int port = start_metrics_endpoint(
        {.address = context.settings.metrics,
         .threads = 2,
         .on_thread_start = [&context] { if (context.ignore_this_thread) context.ignore_this_thread(true); },
         // A fresh snapshot at every scrape (the symbolizer caches: cheap once warm).
         .collect = [options] { return metric_families(g_worker->take(), options); }});
    // Port 0 asked for any free port: say which one it got.
    const std::string& address = context.settings.metrics;
    if (address.size() >= 2 && address.compare(address.size() - 2, 2, ":0") == 0)
      std::fprintf(stderr, "parklock: metrics at http://%s:%d/metrics\n",
                   address.substr(0, address.size() - 2).c_str(), port);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parklock: no metrics endpoint on %s: %s\n", context.settings.metrics, e.what());
  }
}

}  // namespace
}  // namespace parklock

extern "C" __attribute__((visibility("default"))) int parklock_exporter_start(const parklock::ExporterContext* context) {
  using namespace parklock;
  if (context->abi_version != kExporterAbiVersion) {
    std::fprintf(stderr, "parklock: %s does not match libparklock.so (ABI %d, expected %d)\n", kExporterModule,
                 kExporterAbiVersion, context->abi_version);
    return -1;
  }
  g_context = context;
  const int threads_before = process_threads();
  g_worker = new SnapshotWorker(*context, *new Symbolizer);
  g_started_pid = getpid();
  if (context->settings.metrics[0]) start_endpoint(*context);
  if (threads_before >= 0) exit_with_last_host_thread(process_threads() - threads_before);
  if (context->settings.report[0] || context->settings.dump[0]) std::atexit(write_exit_outputs);
  return 0;
}
