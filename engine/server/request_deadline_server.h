// A cpp-httplib server in which each request must be received whole (request
// line, headers and body) within a total deadline from its first byte.
//
// httplib's own read timeout bounds each read alone, so a client that sends
// one byte just inside it, forever, holds a worker thread forever. httplib
// has no hook for a whole-request deadline, so this server replaces its
// per-connection loop (Server::process_and_close_socket, virtual for this)
// with one that reads through a stream whose every read waits at most until
// the request's deadline. Responses are untouched: writes keep httplib's
// write timeout, so a long SSE stream is never cut off by the deadline.
// While it serves a connection, the worker thread's handlers can ask whether
// its client hung up (served_connection.h).
//
// Keep-alive follows httplib's settings (set_keep_alive_max_count,
// set_keep_alive_timeout: how long an idle connection, or a new one that
// sends nothing, is kept), as does set_write_timeout; set_read_timeout is
// not used.
#pragma once

#include <chrono>

#include <httplib.h>

namespace parklock::engine::server {

class RequestDeadlineServer : public httplib::Server {
 public:
  explicit RequestDeadlineServer(std::chrono::milliseconds request_timeout)
      : request_timeout_(request_timeout) {}

 private:
  bool process_and_close_socket(socket_t sock) override;

  const std::chrono::milliseconds request_timeout_;
};

}  // namespace parklock::engine::server
