// metrics_endpoint.h: the preload's HTTP endpoint, GET /metrics in
// Prometheus's text format, served by cpp-httplib on threads of our own.
//
// Not prometheus-cpp's Exposer: its web server (civetweb) gives its workers
// fixed 100 KiB stacks, and glibc carves a thread's static TLS out of its
// stack. In a host whose startup libraries carry tens of KiB of TLS
// (OpenBLAS: 60 KiB; cuBLASLt: 92 KiB) the workers either never start or
// overflow their stacks on the first request, crashing the host. These
// threads get the default stack size.
//
// At exit: the library's own function-local statics are destroyed by exit()
// while a worker may still be serving a request. So the endpoint serves one
// request per connection, with short socket timeouts, and an exit handler
// registered after the first request (so that it runs before those
// destructors) closes the endpoint and waits, boundedly, for requests in
// progress to finish.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <prometheus/metric_family.h>

namespace parklock {

struct MetricsEndpointConfig {
  std::string address;  // "host:port" (settings.h); port 0 picks a free one
  int threads = 2;
  // Runs first on every thread of the endpoint (may be empty).
  std::function<void()> on_thread_start;
  // What a scrape serves.
  std::function<std::vector<prometheus::MetricFamily>()> collect;
};

// Binds and starts serving in the background; its threads exist on return
// (the exporter counts them as its own). Never stopped but at exit. Returns
// the port it listens on; throws std::runtime_error if it cannot bind.
int start_metrics_endpoint(MetricsEndpointConfig config);

}  // namespace parklock
