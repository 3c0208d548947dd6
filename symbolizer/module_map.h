// module_map.h: the objects loaded in this process, as elfutils libdwfl reads
// them: code addresses -> function, source line and module; data addresses ->
// the variable that holds them.
//
// Not thread-safe (neither is libdw): Symbolizer serializes every call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "call_site_index.h"
#include "symbolizer.h"

struct Dwfl;
struct Dwfl_Module;

namespace parklock {

// glibc counts every object load and unload (dl_phdr_info::dlpi_adds and
// dlpi_subs); the pair changes exactly when the set of loaded objects does.
struct LoadCounts {
  unsigned long long adds = 0;
  unsigned long long subs = 0;
  bool operator==(const LoadCounts&) const = default;
};
LoadCounts current_load_counts();

class ModuleMap {
 public:
  ModuleMap();
  ~ModuleMap();
  ModuleMap(const ModuleMap&) = delete;
  ModuleMap& operator=(const ModuleMap&) = delete;

  enum class Change { kNone, kLoaded, kUnloaded };
  // Reports the loaded objects to libdwfl again if the process loaded or
  // unloaded one since the last call. kUnloaded: results computed before may
  // describe an object that is gone.
  Change refresh();
  // The counts as of the last report.
  LoadCounts reported() const { return reported_; }

  // pc is a return address.
  ResolvedFrame frame_at(uintptr_t pc);
  std::optional<std::string> data_symbol_at(uintptr_t address);

 private:
  struct DataSymbol {
    uintptr_t begin;
    uintptr_t end;
    std::string mangled_name;
  };
  // What has been read of one module, on first use.
  struct ModuleCache {
    CallSiteIndex call_sites;
    bool data_symbols_read = false;
    std::vector<DataSymbol> data_symbols;  // OBJECT symbols, sorted by address
  };
  const std::vector<DataSymbol>& data_symbols(Dwfl_Module* module);

  Dwfl* dwfl_;
  LoadCounts reported_;
  bool ever_reported_ = false;
  // Keyed by module handle: valid until an unload, which clears it.
  std::unordered_map<Dwfl_Module*, ModuleCache> caches_;
};

}  // namespace parklock
