// wait_histogram.h: the bucket bounds of every wait- and hold-time histogram.
//
// Log-spaced, three per decade (1, 2.5, 5), from 1 us to 10 s: 22 finite
// bounds and +Inf. Lock waits span that whole range (a spin that just missed,
// a thread preempted while holding, a lock held across I/O); three a decade
// are enough to read a p99 within a factor of 2.5, and a fixed set lets the
// exporter write Prometheus buckets without converting.
#pragma once

#include <cstddef>
#include <cstdint>

namespace parklock {

inline constexpr size_t kHistogramBounds = 22;
inline constexpr size_t kHistogramBuckets = kHistogramBounds + 1;  // the last is +Inf

// Upper bounds, inclusive, in nanoseconds.
inline constexpr uint64_t kHistogramBoundsNs[kHistogramBounds] = {
    1'000,         2'500,         5'000,         10'000,        25'000,      50'000,
    100'000,       250'000,       500'000,       1'000'000,     2'500'000,   5'000'000,
    10'000'000,    25'000'000,    50'000'000,    100'000'000,   250'000'000, 500'000'000,
    1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};

// The bucket a duration falls in: the first bound >= ns, else +Inf.
inline size_t histogram_bucket(uint64_t ns) {
  size_t i = 0;
  while (i < kHistogramBounds && ns > kHistogramBoundsNs[i]) ++i;
  return i;
}

}  // namespace parklock
