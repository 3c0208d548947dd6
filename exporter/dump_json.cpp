#include "dump_json.h"

#include <cstdio>

namespace parklock {
namespace {

std::string hex(uintptr_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
  return text;
}

nlohmann::json histogram_json(const HistogramSnapshot& h) {
  return {{"count", h.count}, {"sum_ns", h.sum_ns}, {"max_ns", h.max_ns}, {"buckets", h.buckets}};
}

}  // namespace

nlohmann::json dump_json(const Snapshot& snap, const DumpInfo& info) {
  nlohmann::json bounds = nlohmann::json::array();
  for (uint64_t ns : kHistogramBoundsNs) bounds.push_back(double(ns) / 1e9);
  nlohmann::json sites = nlohmann::json::array();
  for (const SiteSnapshot& s : snap.sites) {
    nlohmann::json stack = nlohmann::json::array();
    for (size_t i = 0; i < s.pcs.size(); ++i) {
      const ResolvedFrame& f = s.frames[i];
      stack.push_back({{"pc", hex(s.pcs[i])}, {"function", f.function}, {"file", f.file}, {"line", f.line},
                       {"path", f.path}, {"module", f.module}, {"offset", hex(f.module_offset)}});
    }
    sites.push_back({{"kind", lock_kind_label(s.kind)},
                     {"lock", s.lock},
                     {"site", s.site},
                     {"stack", std::move(stack)},
                     {"wait", histogram_json(s.wait)},
                     {"hold", histogram_json(s.hold)},
                     {"caused_wait_ns", s.caused_wait_ns},
                     {"caused_wakeups", s.caused_wakeups}});
  }
  return {{"parklock", {{"version", info.version}, {"locks", info.observe_only ? "glibc" : "parklock"}, {"pid", info.pid}}},
          {"counters",
           {{"contended_acquisitions", snap.contended_acquisitions},
            {"parks", snap.parks},
            {"fair_handoffs", snap.fair_handoffs},
            {"sites", snap.sites_used},
            {"dropped_events", snap.dropped_events}}},
          {"histogram_bounds_seconds", std::move(bounds)},
          {"sites", std::move(sites)}};
}

}  // namespace parklock
