#include "engine/server/served_connection.h"

#include <poll.h>

namespace parklock::engine::server {
namespace {

thread_local int served_socket = -1;

}  // namespace

ServedConnection::ServedConnection(int socket) { served_socket = socket; }

ServedConnection::~ServedConnection() { served_socket = -1; }

bool ServedConnection::client_gone() {
  if (served_socket < 0) return false;
  // POLLRDHUP: the peer's FIN, even with unread bytes (a pipelined request)
  // ahead of it; POLLHUP and POLLERR (a reset) are reported unasked.
  pollfd p{served_socket, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

}  // namespace parklock::engine::server
