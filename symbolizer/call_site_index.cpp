#include "call_site_index.h"

#include <dwarf.h>

#include <algorithm>

#include "symbol_names.h"

namespace parklock {
namespace {

const char* attribute_string(Dwarf_Die* die, unsigned int name) {
  Dwarf_Attribute attribute;
  return dwarf_formstring(dwarf_attr_integrate(die, name, &attribute));
}

// A subprogram's name from DWARF, for code no symbol covers.
std::string dwarf_function_name(Dwarf_Die* subprogram) {
  if (const char* linkage = attribute_string(subprogram, DW_AT_linkage_name)) {
    return demangle(linkage);
  }
  const char* name = attribute_string(subprogram, DW_AT_name);
  return name != nullptr ? name : "";
}

void set_source(const char* path, Dwarf_Word line, ResolvedFrame& frame) {
  if (path == nullptr || line == 0) return;
  frame.path = path;
  frame.file = base_name(path);
  frame.line = static_cast<int>(line);
}

// The first inlined call on the way down from `function` to `address`,
// through lexical blocks: the call written in the function's own source.
bool find_outermost_inlined_call(Dwarf_Die function, Dwarf_Addr address, Dwarf_Die* call) {
  Dwarf_Die scope = function;
  Dwarf_Die child;
  bool descended = true;
  while (descended && dwarf_child(&scope, &child) == 0) {
    descended = false;
    do {
      const int tag = dwarf_tag(&child);
      if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_lexical_block) continue;
      if (dwarf_haspc(&child, address) != 1) continue;
      if (tag == DW_TAG_inlined_subroutine) {
        *call = child;
        return true;
      }
      scope = child;
      descended = true;
      break;
    } while (dwarf_siblingof(&child, &child) == 0);
  }
  return false;
}

void set_call_site(Dwarf_Die* cu, Dwarf_Die* inlined_call, ResolvedFrame& frame) {
  Dwarf_Attribute attribute;
  Dwarf_Word file_index = 0;
  Dwarf_Word line = 0;
  Dwarf_Files* files = nullptr;
  size_t file_count = 0;
  if (dwarf_formudata(dwarf_attr(inlined_call, DW_AT_call_file, &attribute), &file_index) == 0 &&
      dwarf_formudata(dwarf_attr(inlined_call, DW_AT_call_line, &attribute), &line) == 0 &&
      dwarf_getsrcfiles(cu, &files, &file_count) == 0 && file_index < file_count) {
    set_source(dwarf_filesrc(files, file_index, nullptr, nullptr), line, frame);
  }
}

void set_line_table_source(Dwarf_Die* cu, Dwarf_Addr address, ResolvedFrame& frame) {
  Dwarf_Line* line_entry = dwarf_getsrc_die(cu, address);
  int line = 0;
  if (line_entry != nullptr && dwarf_lineno(line_entry, &line) == 0 && line > 0) {
    set_source(dwarf_linesrc(line_entry, nullptr, nullptr), static_cast<Dwarf_Word>(line), frame);
  }
}

}  // namespace

const std::vector<CallSiteIndex::FunctionRange>& CallSiteIndex::functions_of(Dwarf_Die* cu) {
  auto [entry, inserted] = functions_by_cu_.try_emplace(dwarf_dieoffset(cu));
  std::vector<FunctionRange>& functions = entry->second;
  if (!inserted) return functions;
  dwarf_getfuncs(
      cu,
      [](Dwarf_Die* function, void* data) -> int {
        auto* out = static_cast<std::vector<FunctionRange>*>(data);
        Dwarf_Addr base = 0;
        Dwarf_Addr begin = 0;
        Dwarf_Addr end = 0;
        for (ptrdiff_t offset = 0; (offset = dwarf_ranges(function, offset, &base, &begin, &end)) > 0;) {
          out->push_back({begin, end, *function});
        }
        return DWARF_CB_OK;
      },
      &functions, 0);
  std::sort(functions.begin(), functions.end(),
            [](const FunctionRange& a, const FunctionRange& b) { return a.begin < b.begin; });
  return functions;
}

void CallSiteIndex::describe_call(Dwarf_Die* cu, Dwarf_Addr address, ResolvedFrame& frame) {
  const std::vector<FunctionRange>& functions = functions_of(cu);
  // The last range starting at or below the address, if it reaches it.
  auto after = std::upper_bound(functions.begin(), functions.end(), address,
                                [](Dwarf_Addr a, const FunctionRange& f) { return a < f.begin; });
  const FunctionRange* range = nullptr;
  if (after != functions.begin() && address < (after - 1)->end) range = &*(after - 1);

  Dwarf_Die inlined_call;
  if (range != nullptr && find_outermost_inlined_call(range->function, address, &inlined_call)) {
    set_call_site(cu, &inlined_call, frame);
  } else {
    set_line_table_source(cu, address, frame);
  }
  if (frame.function.empty() && range != nullptr) {
    Dwarf_Die function = range->function;
    frame.function = dwarf_function_name(&function);
  }
}

}  // namespace parklock
