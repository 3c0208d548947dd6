#include "server_session.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <stdexcept>
#include <thread>

#include <httplib.h>

#include "placeholders.h"

namespace parklock::launcher {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(50);

std::optional<std::string> find_listening_url(const ServerSpec& spec) {
  static const std::regex line(R"(listening on (\S+))");
  for (const auto& path : {spec.stdout_path, spec.stderr_path}) {
    std::string text = read_file(path);
    std::smatch match;
    if (std::regex_search(text, match, line)) return match[1].str();
  }
  return std::nullopt;
}

bool accepts_tcp(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return false;
  bool connected = false;
  for (addrinfo* address = found; address && !connected; address = address->ai_next) {
    int fd = socket(address->ai_family, address->ai_socktype | SOCK_CLOEXEC, address->ai_protocol);
    if (fd < 0) continue;
    connected = connect(fd, address->ai_addr, address->ai_addrlen) == 0;
    close(fd);
  }
  freeaddrinfo(found);
  return connected;
}

// One probe of a health URL: http://HOST:PORT/PATH answering 200, or
// tcp://HOST:PORT accepting.
bool answers(const std::string& url) {
  static const std::regex form(R"(^(http|tcp)://(\[[^\]]+\]|[^/:]+):([0-9]+)(/.*)?$)");
  std::smatch match;
  if (!std::regex_match(url, match, form))
    throw std::runtime_error("health URL '" + url + "' is not http://HOST:PORT/PATH or tcp://HOST:PORT");
  if (match[1] == "tcp") return accepts_tcp(match[2].str(), match[3].str());
  httplib::Client client(match[2].str(), std::stoi(match[3].str()));
  client.set_connection_timeout(std::chrono::seconds(1));
  client.set_read_timeout(std::chrono::seconds(2));
  auto response = client.Get(match[4].matched ? match[4].str() : "/");
  return response && response->status == 200;
}

}  // namespace

ServerSession::ServerSession(const ServerSpec& spec) : spec_(spec) {
  process_ = std::make_unique<ChildProcess>(ChildSpec{
      {"/bin/sh", "-c", spec.command}, spec.environment, spec.stdout_path, spec.stderr_path});
  auto deadline = std::chrono::steady_clock::now() + spec.ready_timeout;
  bool wait_for_line = !spec.health || spec.wants_listening_url;
  for (;;) {
    if (auto status = process_->poll())
      throw std::runtime_error("the server exited before it was ready (" + status->describe() +
                               "); its output ends:\n" + output_tail());
    if (wait_for_line && listening_url_.empty()) {
      if (auto url = find_listening_url(spec)) listening_url_ = *url;
    }
    bool line_seen = !wait_for_line || !listening_url_.empty();
    if (line_seen && (!spec.health || answers(substitute(*spec.health, {{"url", listening_url_}})))) return;
    if (std::chrono::steady_clock::now() >= deadline) {
      process_->stop(spec.grace);
      throw std::runtime_error(
          "the server was not ready within " + std::to_string(spec.ready_timeout.count() / 1000) + " s (" +
          (line_seen ? "its health check " + substitute(*spec.health, {{"url", listening_url_}}) + " never answered"
                     : std::string("it never printed 'listening on URL'")) +
          "); its output ends:\n" + output_tail());
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

void ServerSession::check_running() {
  if (auto status = process_->poll())
    throw std::runtime_error("the server exited during the load (" + status->describe() +
                             "); its output ends:\n" + output_tail());
}

ExitStatus ServerSession::stop() { return process_->stop(spec_.grace); }

std::string ServerSession::output_tail() const {
  return tail_of_file(spec_.stdout_path) + tail_of_file(spec_.stderr_path);
}

int pick_free_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  bool bound = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
               getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  close(fd);
  if (!bound) throw std::runtime_error("cannot find a free port on 127.0.0.1");
  return ntohs(address.sin_port);
}

}  // namespace parklock::launcher
