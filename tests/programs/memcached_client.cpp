// memcached_client: a multi-threaded text-protocol load with verification.
// Each thread sets and reads back keys of its own (so every answer is known
// in advance) plus reads of keys shared by all, over plain sockets.
// Prints totals that depend only on the arguments; exits 1 on any mismatch.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

class Connection {
 public:
  explicit Connection(int port) {
    // The server may still be starting: retry for up to ~10 s.
    for (int attempt = 0; attempt < 200 && fd_ < 0; ++attempt) {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(uint16_t(port));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fd_ = fd;
      } else {
        close(fd);
        usleep(50000);
      }
    }
  }
  ~Connection() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

  bool send_all(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = write(fd_, s.data() + off, s.size() - off);
      if (n <= 0) return false;
      off += size_t(n);
    }
    return true;
  }
  // Reads until `buf_` holds `terminator`; returns everything up to and
  // including it.
  bool read_until(const char* terminator, std::string* out) {
    for (;;) {
      size_t pos = buf_.find(terminator);
      if (pos != std::string::npos) {
        size_t end = pos + std::strlen(terminator);
        *out = buf_.substr(0, end);
        buf_.erase(0, end);
        return true;
      }
      char chunk[4096];
      ssize_t n = read(fd_, chunk, sizeof chunk);
      if (n <= 0) return false;
      buf_.append(chunk, size_t(n));
    }
  }

 private:
  int fd_ = -1;
  std::string buf_;
};

std::string value_for(int thread, int op) {
  return "v" + std::to_string(thread) + "-" + std::to_string(op) + std::string(size_t(op % 64), 'x');
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: memcached_client PORT THREADS OPS_PER_THREAD\n");
    return 2;
  }
  int port = std::atoi(argv[1]);
  int threads = std::atoi(argv[2]);
  int ops = std::atoi(argv[3]);
  constexpr int kKeysPerThread = 100;
  constexpr int kSharedKeys = 16;

  {
    Connection setup(port);
    if (!setup.ok()) return std::fprintf(stderr, "cannot connect to port %d\n", port), 1;
    std::string reply;
    for (int k = 0; k < kSharedKeys; ++k) {
      std::string v = "shared" + std::to_string(k);
      if (!setup.send_all("set s" + std::to_string(k) + " 0 0 " + std::to_string(v.size()) + "\r\n" + v + "\r\n") ||
          !setup.read_until("\r\n", &reply) || reply != "STORED\r\n")
        return std::fprintf(stderr, "setup failed\n"), 1;
    }
  }

  std::atomic<long> sets{0}, gets{0}, hits{0}, errors{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      Connection c(port);
      if (!c.ok()) {
        errors.fetch_add(1);
        return;
      }
      std::vector<int> last_set(kKeysPerThread, -1);
      std::string reply;
      for (int i = 0; i < ops; ++i) {
        int k = i % kKeysPerThread;
        std::string key = "t" + std::to_string(t) + "k" + std::to_string(k);
        if (i % 3 != 2) {
          std::string v = value_for(t, i);
          if (!c.send_all("set " + key + " 0 0 " + std::to_string(v.size()) + "\r\n" + v + "\r\n") ||
              !c.read_until("\r\n", &reply) || reply != "STORED\r\n") {
            errors.fetch_add(1);
            return;
          }
          last_set[k] = i;
          sets.fetch_add(1);
        }
        // Read back one own key and one shared key in one request.
        std::string shared = "s" + std::to_string((t + i) % kSharedKeys);
        if (!c.send_all("get " + key + " " + shared + "\r\n") || !c.read_until("END\r\n", &reply)) {
          errors.fetch_add(1);
          return;
        }
        gets.fetch_add(2);
        std::string want;
        if (last_set[k] >= 0) {
          std::string v = value_for(t, last_set[k]);
          want += "VALUE " + key + " 0 " + std::to_string(v.size()) + "\r\n" + v + "\r\n";
          hits.fetch_add(1);
        }
        std::string sv = "shared" + std::to_string((t + i) % kSharedKeys);
        want += "VALUE " + shared + " 0 " + std::to_string(sv.size()) + "\r\n" + sv + "\r\nEND\r\n";
        hits.fetch_add(1);
        if (reply != want) {
          std::fprintf(stderr, "thread %d op %d: unexpected reply\n", t, i);
          errors.fetch_add(1);
          return;
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  std::printf("memcached: threads %d sets %ld gets %ld hits %ld errors %ld\n", threads, sets.load(),
              gets.load(), hits.load(), errors.load());
  return errors.load() == 0 ? 0 : 1;
}
