// call_site_index.h: a code address -> the source line of the call it belongs
// to, in the function that physically holds the code, from one module's DWARF.
//
// libdw's dwarf_getscopes walks the whole compile unit for every address
// (close to a millisecond for a unit that includes the standard library), and
// follows an inlined call into its abstract origin instead of its caller.
// This index walks each compile unit once, keeping the address ranges of its
// concrete functions; an address then costs a binary search and a walk down
// that function's own scopes to the first inlined call.
//
// Not thread-safe; lives as long as its module's Dwarf (ModuleMap owns it).
#pragma once

#include <elfutils/libdw.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "symbolizer.h"

namespace parklock {

class CallSiteIndex {
 public:
  // `cu` holds `address` (both in the module's DWARF address space). Sets
  // frame.path, file and line when DWARF knows them, and frame.function from
  // DWARF when it is still empty.
  void describe_call(Dwarf_Die* cu, Dwarf_Addr address, ResolvedFrame& frame);

 private:
  struct FunctionRange {
    Dwarf_Addr begin;
    Dwarf_Addr end;
    Dwarf_Die function;  // a defining DW_TAG_subprogram
  };
  // The CU's concrete functions by address (a function split into hot and
  // cold parts has two ranges); built on first use.
  const std::vector<FunctionRange>& functions_of(Dwarf_Die* cu);

  std::unordered_map<Dwarf_Off, std::vector<FunctionRange>> functions_by_cu_;
};

}  // namespace parklock
