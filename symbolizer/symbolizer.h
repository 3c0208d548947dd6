// symbolizer.h: return addresses and data addresses of this process -> names.
//
// Off the lock path only: it reads ELF and DWARF files (elfutils libdw),
// allocates and takes ordinary locks. Meant for scrape, report and dump time,
// from any number of threads at once.
//
// What a frame says:
//   - function: the demangled name, parameter list included
//     (`ns::Foo::bar(int)`; describe() leaves it out), of the function the code
//     physically lies in: from the symbol table (.symtab, or .dynsym when the
//     file is stripped), so binaries linked without -rdynamic name their
//     static functions too; from DWARF when no symbol covers the address.
//   - file and line: where that function makes the call. When the call comes
//     from code inlined into the function (std::lock_guard's constructor
//     inlining std::mutex::lock), that is the line of the outermost inlined
//     call, in the function's own source, not a line inside <mutex>.
//     `file` is the base name ("scheduler.cpp"), which reads best in a metrics
//     label next to the function name; `path` is the full path recorded in
//     DWARF, for dumps.
//   - module and module_offset: the object's base name, and the address of
//     pc - 1 in the ELF file's own address space (what `addr2line -e module`
//     takes).
// Separate debug files are found by build ID under /usr/lib/debug; nothing is
// fetched from a debuginfod server (a scrape must not wait on the network).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace parklock {

struct ResolvedFrame {
  std::string function;  // demangled; empty if unknown
  std::string file;      // source base name; empty without DWARF line info
  int line = 0;          // 0 without DWARF line info
  std::string path;      // source path as DWARF records it; empty without line info
  std::string module;    // object base name; empty if no loaded object holds pc
  uintptr_t module_offset = 0;
};

// Thread-safe. Results are cached per pc; the loaded objects are re-read when
// the process loads or unloads one (glibc's dl_iterate_phdr counters), and an
// unload drops the cache, so a result always describes the objects loaded
// when it is returned.
class Symbolizer {
 public:
  Symbolizer();
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // pc is a return address: the call instruction before it is looked up.
  ResolvedFrame resolve(uintptr_t pc);

  // "function (file:line)", "function (module+0x1a2b)", "module+0x1a2b", or
  // "0x7f0123456789" when no loaded object holds pc. The function is named
  // without its parameter list ("ns::Foo::bar (foo.cpp:42)"): in a metrics
  // label or a report column the line, or the offset, already tells
  // overloads apart, and template parameter types make names of hundreds of
  // characters.
  std::string describe(uintptr_t pc);

  // describe() of the frame that best names the call-site of a captured
  // stack (pcs innermost first): the first frame outside the C and C++
  // runtimes (libc.so, libstdc++.so, libc++.so) and outside installed
  // headers (/usr/include, GCC's own). Without it, a program built with -O0,
  // where std::mutex::lock is a function of its own, would name every site
  // "__gthread_mutex_lock (gthr-default.h:749)", and a condvar wait
  // "std::condition_variable::wait". pcs[0] when every frame is such; "" for
  // an empty stack.
  std::string describe_site(const uintptr_t* pcs, size_t count);

  // The demangled name of the static or global variable (an OBJECT symbol of
  // .symtab or .dynsym) whose storage contains addr: "g_table_mutex",
  // "ns::Pool::mutex_", "worker()::m" for a function-local static.
  std::optional<std::string> data_symbol(uintptr_t addr);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace parklock
