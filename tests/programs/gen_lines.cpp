// gen_lines: N pseudo-random text lines from a seed, the same on every run
// and machine (xorshift64*, no library randomness), as input for the sort
// and compressor workloads.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: gen_lines LINES SEED\n");
    return 2;
  }
  long lines = std::atol(argv[1]);
  uint64_t x = std::strtoull(argv[2], nullptr, 10) * 2654435761u + 1;
  auto next = [&x] {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return x * 2685821657736338717ull;
  };
  char line[64];
  for (long i = 0; i < lines; ++i) {
    uint64_t r = next();
    int len = 4 + int(r % 16);
    int n = 0;
    // A small alphabet so that lines repeat prefixes (sort compares deeper).
    for (int k = 0; k < len; ++k) line[n++] = char('a' + (next() % 12));
    n += std::snprintf(line + n, sizeof line - n, " %llu\n", (unsigned long long)(next() % 1000000));
    std::fwrite(line, 1, size_t(n), stdout);
  }
  return 0;
}
