#include "ab_arms.h"

#include <algorithm>
#include <sstream>

#include "usage_error.h"

namespace parklock::launcher {

const std::vector<Arm>& all_arms() {
  static const std::vector<Arm> arms = [] {
    PreloadSettings observe;
    observe.observe_only = true;
    observe.record = true;
    PreloadSettings record;
    record.record = true;
    return std::vector<Arm>{
        {"glibc", "glibc's locks: no preload", false, {}},
        {"parklock", "parklock's locks, recording off", true, {}},
        {"observe", "glibc's lock algorithms, contention recorded: PARKLOCK_LOCKS=glibc PARKLOCK_RECORD=1", true,
         observe},
        {"record", "parklock's locks, contention recorded: PARKLOCK_RECORD=1", true, record},
    };
  }();
  return arms;
}

std::vector<Arm> arms_from_list(const std::string& list) {
  std::vector<Arm> chosen;
  std::istringstream names(list);
  for (std::string name; std::getline(names, name, ',');) {
    auto known = std::find_if(all_arms().begin(), all_arms().end(),
                              [&](const Arm& arm) { return arm.name == name; });
    if (known == all_arms().end())
      throw UsageError("--arms: no arm '" + name + "' (the arms are glibc, parklock, observe, record)");
    if (std::any_of(chosen.begin(), chosen.end(), [&](const Arm& arm) { return arm.name == name; }))
      throw UsageError("--arms: '" + name + "' is listed twice");
    chosen.push_back(*known);
  }
  if (chosen.size() < 2) throw UsageError("--arms: an A/B needs at least two arms, got '" + list + "'");
  return chosen;
}

Environment environment_for(const Arm& arm, const Environment& base, const std::string& library) {
  auto environment = without_preload(base);
  if (arm.preloaded) environment = with_preload(std::move(environment), library, arm.settings);
  return environment;
}

}  // namespace parklock::launcher
