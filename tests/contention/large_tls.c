/* 96 KiB of thread-local storage in every thread, as a host with OpenBLAS
 * (60 KiB) or cuBLASLt (92 KiB) loaded at start has: glibc takes it out of
 * each thread's stack. */
__thread char large_tls_buffer[96 * 1024];

char* large_tls_touch(void) { return large_tls_buffer; }
