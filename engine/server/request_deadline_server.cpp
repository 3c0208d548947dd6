#include "engine/server/request_deadline_server.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "engine/server/served_connection.h"

namespace parklock::engine::server {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Polls `sock` for `events` for up to `timeout` (EINTR retried); true when ready.
bool poll_for(socket_t sock, short events, milliseconds timeout) {
  const Clock::time_point until = Clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now());
    pollfd p{sock, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::max(left.count(), milliseconds::rep{0})));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

void numeric_endpoint(const sockaddr_storage& addr, socklen_t len, std::string& ip, int& port) {
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof host, serv,
                    sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = std::atoi(serv);
  }
}

// One request's view of its connection, read through a buffer (httplib reads
// the request line and headers a byte at a time); every read waits at most
// until the request's deadline. As with httplib's own stream, each request
// gets a new one, and bytes read ahead are dropped with it: a body that a
// handler answered without reading (a 401) is not taken for a next request.
class DeadlineSocketStream final : public httplib::Stream {
 public:
  DeadlineSocketStream(socket_t sock, Clock::time_point deadline, milliseconds write_timeout)
      : sock_(sock), deadline_(deadline), write_timeout_(write_timeout) {}

  bool has_buffered() const { return begin_ < end_; }

  bool is_readable() const override {
    if (has_buffered()) return true;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now());
    return left.count() > 0 && poll_for(sock_, POLLIN, left);
  }
  bool is_writable() const override { return poll_for(sock_, POLLOUT, write_timeout_); }

  ssize_t read(char* ptr, size_t size) override {
    if (!has_buffered()) {
      if (!is_readable()) return -1;
      ssize_t n;
      do n = ::recv(sock_, buffer_.data(), buffer_.size(), 0);
      while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      begin_ = 0;
      end_ = static_cast<size_t>(n);
    }
    const size_t n = std::min(size, end_ - begin_);
    std::memcpy(ptr, buffer_.data() + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n;
    do n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      numeric_endpoint(addr, len, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      numeric_endpoint(addr, len, ip, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  const socket_t sock_;
  const Clock::time_point deadline_;
  const milliseconds write_timeout_;
  std::array<char, 4096> buffer_{};
  size_t begin_ = 0, end_ = 0;  // unread bytes: buffer_[begin_, end_)
};

milliseconds to_ms(time_t sec, time_t usec) {
  return milliseconds(static_cast<int64_t>(sec) * 1000 + static_cast<int64_t>(usec) / 1000);
}

}  // namespace

bool RequestDeadlineServer::process_and_close_socket(socket_t sock) {
  // Waits for the next request's first byte, in short slices so that a
  // stop() is noticed; gives up after the keep-alive timeout.
  const auto next_request_arrives = [&] {
    constexpr milliseconds kSlice{50};
    const Clock::time_point until = Clock::now() + to_ms(keep_alive_timeout_sec_, 0);
    while (svr_sock_ != INVALID_SOCKET) {  // stop() invalidates it
      if (poll_for(sock, POLLIN, kSlice)) return true;
      if (Clock::now() >= until) return false;
    }
    return false;
  };
  const ServedConnection served(sock);  // handlers may ask if the client hung up
  bool ok = false;
  for (size_t left = keep_alive_max_count_; left > 0 && next_request_arrives(); --left) {
    DeadlineSocketStream stream(sock, Clock::now() + request_timeout_,
                                to_ms(write_timeout_sec_, write_timeout_usec_));
    bool connection_closed = false;
    ok = process_request(stream, /*close_connection=*/left == 1, connection_closed, nullptr);
    if (!ok || connection_closed) break;
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

}  // namespace parklock::engine::server
