// Lets a request handler ask whether its client is still connected.
//
// cpp-httplib 0.11 (Debian 12) has no Request::is_connection_closed, and a
// handler waiting for the engine (a non-streaming completion, or a stream
// whose next chunk is still being computed) writes nothing meanwhile, so a
// client that hung up would go unnoticed until the end. RequestDeadlineServer
// runs each connection's request loop on the worker thread that also runs its
// handlers and content providers, and marks the connection as that thread's
// own for as long as it serves it.
#pragma once

namespace parklock::engine::server {

class ServedConnection {
 public:
  // The calling thread serves `socket` until this object is destroyed.
  explicit ServedConnection(int socket);
  ~ServedConnection();
  ServedConnection(const ServedConnection&) = delete;
  ServedConnection& operator=(const ServedConnection&) = delete;

  // True when the client of the connection the calling thread serves has
  // closed it (or shut down its sending side: HTTP clients do not, so it is
  // taken for a close, as uvicorn does) or reset it. False on a thread that
  // serves no connection. One poll(2), no wait.
  static bool client_gone();
};

}  // namespace parklock::engine::server
