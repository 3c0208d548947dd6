/* A C library (nothing in it keeps it loaded after dlclose) that a test
   loads only after its Symbolizer has read the loaded objects, then unloads. */
#include <stdint.h>

typedef int (*capture_function)(uintptr_t* pcs, int max_depth, int skip);

__attribute__((visibility("default"), noipa)) int late_capture(capture_function capture,
                                                                 uintptr_t* pc, int* line) {
  *line = (capture(pc, 1, 0), __LINE__);
  return *line;
}
