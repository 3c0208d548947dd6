#include "module_map.h"

#include <elfutils/libdwfl.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

#include "symbol_names.h"

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
  if (unloaded) caches_.clear();
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

  Dwarf_Addr dwarf_bias = 0;
  if (Dwarf_Die* cu = dwfl_module_addrdie(module, address, &dwarf_bias)) {
    caches_[module].call_sites.describe_call(cu, address - dwarf_bias, frame);
  }
  return frame;
}

const std::vector<ModuleMap::DataSymbol>& ModuleMap::data_symbols(Dwfl_Module* module) {
  ModuleCache& cache = caches_[module];
  std::vector<DataSymbol>& symbols = cache.data_symbols;
  if (cache.data_symbols_read) return symbols;
  cache.data_symbols_read = true;
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
