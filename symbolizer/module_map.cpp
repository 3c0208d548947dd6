#include "module_map.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace parklock {
namespace {

// Separate debug files by build ID only (local, validated): libdwfl's
// standard finder would also ask a debuginfod server when DEBUGINFOD_URLS is
// set. find_elf is not used for modules reported with their file name.
const Dwfl_Callbacks kCallbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_build_id_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = nullptr,
};

std::string demangle(const char* name) {
  // Only mangled names: __cxa_demangle would read "f" as the type float.
  if (std::strncmp(name, "_Z", 2) != 0) return name;
  int status = 0;
  char* demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || demangled == nullptr) return name;
  std::string result(demangled);
  std::free(demangled);
  return result;
}

const char* base_name(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash != nullptr ? slash + 1 : path;
}

struct LoadedObject {
  std::string path;
  uintptr_t bias;  // dlpi_addr: where the file's address 0 lies
};

std::string main_executable_path() {
  char path[PATH_MAX];
  const ssize_t length = readlink("/proc/self/exe", path, sizeof(path) - 1);
  return length > 0 ? std::string(path, length) : std::string();
}

std::vector<LoadedObject> loaded_objects() {
  struct Collect {
    std::string main_path;
    std::vector<LoadedObject> objects;
    bool first = true;
  } collect{main_executable_path(), {}};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* collect = static_cast<Collect*>(data);
        // The main executable comes first, with an empty name. Objects without
        // a file (the vDSO) fail to report and are skipped there.
        const bool is_main = collect->first;
        collect->first = false;
        std::string path = is_main ? collect->main_path : std::string(info->dlpi_name);
        if (!path.empty()) collect->objects.push_back({std::move(path), info->dlpi_addr});
        return 0;
      },
      &collect);
  return std::move(collect.objects);
}

bool is_code_symbol(const GElf_Sym& symbol) {
  const int type = GELF_ST_TYPE(symbol.st_info);
  return type == STT_FUNC || type == STT_GNU_IFUNC || type == STT_NOTYPE;
}

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

// Where the physical function containing the code makes the call. Scopes are
// taken from the concrete DIE tree (dwarf_getscopes_die): dwarf_getscopes
// continues from an inlined instance into its abstract origin's scopes.
void add_source_location(Dwfl_Module* module, Dwarf_Addr address, ResolvedFrame& frame) {
  Dwarf_Addr bias = 0;
  Dwarf_Die* cu = dwfl_module_addrdie(module, address, &bias);
  if (cu == nullptr) return;
  const Dwarf_Addr dwarf_address = address - bias;

  Dwarf_Die* scopes = nullptr;
  Dwarf_Die* chain = nullptr;
  int chain_length = 0;
  if (dwarf_getscopes(cu, dwarf_address, &scopes) > 0) {
    chain_length = dwarf_getscopes_die(&scopes[0], &chain);
  }
  std::free(scopes);

  // chain[0] is the innermost scope; the outermost inlined call before the
  // subprogram is the call written in the function's own source.
  Dwarf_Die* outermost_inline = nullptr;
  Dwarf_Die* subprogram = nullptr;
  for (int i = 0; i < chain_length && subprogram == nullptr; ++i) {
    const int tag = dwarf_tag(&chain[i]);
    if (tag == DW_TAG_inlined_subroutine) outermost_inline = &chain[i];
    if (tag == DW_TAG_subprogram) subprogram = &chain[i];
  }

  if (outermost_inline != nullptr) {
    Dwarf_Attribute attribute;
    Dwarf_Word file_index = 0;
    Dwarf_Word line = 0;
    Dwarf_Files* files = nullptr;
    size_t file_count = 0;
    if (dwarf_formudata(dwarf_attr(outermost_inline, DW_AT_call_file, &attribute), &file_index) == 0 &&
        dwarf_formudata(dwarf_attr(outermost_inline, DW_AT_call_line, &attribute), &line) == 0 &&
        dwarf_getsrcfiles(cu, &files, &file_count) == 0 && file_index < file_count) {
      set_source(dwarf_filesrc(files, file_index, nullptr, nullptr), line, frame);
    }
  } else if (Dwarf_Line* line_entry = dwarf_getsrc_die(cu, dwarf_address)) {
    int line = 0;
    if (dwarf_lineno(line_entry, &line) == 0 && line > 0) {
      set_source(dwarf_linesrc(line_entry, nullptr, nullptr), static_cast<Dwarf_Word>(line), frame);
    }
  }
  if (frame.function.empty() && subprogram != nullptr) frame.function = dwarf_function_name(subprogram);
  std::free(chain);
}

}  // namespace

LoadCounts current_load_counts() {
  LoadCounts counts;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        // The counters are the same in every entry: read the first.
        auto* counts = static_cast<LoadCounts*>(data);
        counts->adds = info->dlpi_adds;
        counts->subs = info->dlpi_subs;
        return 1;
      },
      &counts);
  return counts;
}

ModuleMap::ModuleMap() : dwfl_(dwfl_begin(&kCallbacks)) {}

ModuleMap::~ModuleMap() {
  if (dwfl_ != nullptr) dwfl_end(dwfl_);
}

ModuleMap::Change ModuleMap::refresh() {
  if (dwfl_ == nullptr) return Change::kNone;
  const LoadCounts now = current_load_counts();
  if (ever_reported_ && now == reported_) return Change::kNone;
  const bool unloaded = ever_reported_ && now.subs != reported_.subs;

  // A re-reported module (same file, same place) keeps its libdwfl handle and
  // whatever was read of it; the others are dropped by dwfl_report_end.
  dwfl_report_begin(dwfl_);
  for (const LoadedObject& object : loaded_objects()) {
    dwfl_report_elf(dwfl_, object.path.c_str(), object.path.c_str(), -1, object.bias, false);
  }
  dwfl_report_end(dwfl_, nullptr, nullptr);
  if (unloaded) data_symbols_.clear();
  reported_ = now;
  ever_reported_ = true;
  return unloaded ? Change::kUnloaded : Change::kLoaded;
}

ResolvedFrame ModuleMap::frame_at(uintptr_t pc) {
  ResolvedFrame frame;
  if (dwfl_ == nullptr || pc == 0) return frame;
  // The call instruction, not whatever follows it (which may belong to the
  // next line, or the next function when the call never returns).
  const Dwarf_Addr address = pc - 1;
  Dwfl_Module* module = dwfl_addrmodule(dwfl_, address);
  if (module == nullptr) return frame;

  const char* name =
      dwfl_module_info(module, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
  frame.module = base_name(name != nullptr ? name : "");
  Dwarf_Addr elf_bias = 0;
  if (dwfl_module_getelf(module, &elf_bias) != nullptr) frame.module_offset = address - elf_bias;

  GElf_Off offset = 0;
  GElf_Sym symbol;
  const char* symbol_name =
      dwfl_module_addrinfo(module, address, &offset, &symbol, nullptr, nullptr, nullptr);
  if (symbol_name != nullptr && is_code_symbol(symbol)) frame.function = demangle(symbol_name);

  add_source_location(module, address, frame);
  return frame;
}

const std::vector<ModuleMap::DataSymbol>& ModuleMap::data_symbols(Dwfl_Module* module) {
  auto [entry, inserted] = data_symbols_.try_emplace(module);
  std::vector<DataSymbol>& symbols = entry->second;
  if (!inserted) return symbols;
  const int count = dwfl_module_getsymtab(module);
  for (int i = 0; i < count; ++i) {
    GElf_Sym symbol;
    GElf_Addr address = 0;
    GElf_Word section = 0;
    const char* name =
        dwfl_module_getsym_info(module, i, &symbol, &address, &section, nullptr, nullptr);
    // Defined, sized, in memory (section -1: not allocated).
    if (name == nullptr || *name == '\0' || GELF_ST_TYPE(symbol.st_info) != STT_OBJECT ||
        symbol.st_size == 0 || section == SHN_UNDEF || section == SHN_ABS ||
        section == static_cast<GElf_Word>(-1)) {
      continue;
    }
    symbols.push_back({address, address + symbol.st_size, name});
  }
  std::sort(symbols.begin(), symbols.end(),
            [](const DataSymbol& a, const DataSymbol& b) { return a.begin < b.begin; });
  return symbols;
}

std::optional<std::string> ModuleMap::data_symbol_at(uintptr_t address) {
  if (dwfl_ == nullptr) return std::nullopt;
  Dwfl_Module* module = dwfl_addrmodule(dwfl_, address);
  if (module == nullptr) return std::nullopt;
  const std::vector<DataSymbol>& symbols = data_symbols(module);
  // The last symbol starting at or below the address, if it reaches it.
  auto after = std::upper_bound(symbols.begin(), symbols.end(), address,
                                [](uintptr_t a, const DataSymbol& s) { return a < s.begin; });
  if (after == symbols.begin()) return std::nullopt;
  const DataSymbol& candidate = *(after - 1);
  if (address >= candidate.end) return std::nullopt;
  return demangle(candidate.mangled_name.c_str());
}

}  // namespace parklock
