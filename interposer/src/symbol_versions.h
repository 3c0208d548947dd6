// symbol_versions.h: how the shim's entry points take over glibc's names.
//
// A program asks the dynamic linker for a versioned symbol, such as
// pthread_mutex_trylock@GLIBC_2.34 (built since glibc 2.34) or
// pthread_mutex_trylock@GLIBC_2.2.5 (built against libpthread.so.0). A library
// that defines a symbol under some versions matches only those, so the shim
// defines each entry point under every version glibc has it (`objdump -T
// libc.so.6`), the newest as the default. parklock.map declares the version
// nodes. The versions below are x86_64's.
#pragma once

#if !defined(__x86_64__)
#error "parklock's symbol versions are glibc's x86_64 ones; other targets need their own table"
#endif

#define PARKLOCK_SYMVER_DEFAULT(name, version) \
  __attribute__((visibility("default"), symver(#name "@@" version)))
#define PARKLOCK_SYMVER_COMPAT(name, version) __attribute__((symver(#name "@" version)))

// glibc also exports old libpthread aliases, __pthread_mutex_lock@GLIBC_2.2.5
// and the like, which binaries built against glibc before 2.34 may be bound
// to. They must be ours too: glibc's code on our state word would misread it.
#define PARKLOCK_ALSO_OLD_ALIAS(name) PARKLOCK_SYMVER_COMPAT(__##name, "GLIBC_2.2.5")

// Present since glibc 2.2.5 and never moved.
#define PARKLOCK_EXPORT_2_2_5(name) \
  extern "C" PARKLOCK_SYMVER_DEFAULT(name, "GLIBC_2.2.5")

// Moved from libpthread to libc in glibc 2.34.
#define PARKLOCK_EXPORT_2_2_5_AND_2_34(name) \
  extern "C" PARKLOCK_SYMVER_COMPAT(name, "GLIBC_2.2.5") PARKLOCK_SYMVER_DEFAULT(name, "GLIBC_2.34")

// Condition variables: the 2.2.5 layout was replaced in 2.3.2. Both names are
// served by the same code: our layout is used by either.
#define PARKLOCK_EXPORT_2_2_5_AND_2_3_2(name) \
  extern "C" PARKLOCK_SYMVER_COMPAT(name, "GLIBC_2.2.5") PARKLOCK_SYMVER_DEFAULT(name, "GLIBC_2.3.2")

// The clock-taking calls, added in 2.30, moved to libc in 2.34.
#define PARKLOCK_EXPORT_2_30_AND_2_34(name) \
  extern "C" PARKLOCK_SYMVER_COMPAT(name, "GLIBC_2.30") PARKLOCK_SYMVER_DEFAULT(name, "GLIBC_2.34")

// C11 <threads.h>, added in 2.28, moved to libc in 2.34.
#define PARKLOCK_EXPORT_2_28_AND_2_34(name) \
  extern "C" PARKLOCK_SYMVER_COMPAT(name, "GLIBC_2.28") PARKLOCK_SYMVER_DEFAULT(name, "GLIBC_2.34")
