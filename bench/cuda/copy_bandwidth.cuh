// Device memory bandwidth as a large device-to-device copy moves it,
// counting bytes read plus bytes written (METHOD: the ceiling a
// memory-bound step is measured against).
#pragma once

#include <cstddef>

namespace parklock::bench {

struct CopyBandwidth {
  double kernel_gbps = 0;   // 16-byte-per-thread grid-stride copy kernel, median of repeats
  double memcpy_gbps = 0;   // cudaMemcpyAsync device-to-device, median of repeats
};

// Copies `bytes` (rounded down to 16) between two fresh random-filled
// buffers `repeats` times each way; throws CudaError on failure.
CopyBandwidth measure_copy_bandwidth(size_t bytes, int repeats);

}  // namespace parklock::bench
