// A usage mistake found after the command line parsed (a nonsensical
// combination, a metric the output does not contain): main() prints it as
// "parklock: <what>" and exits with status 2, as for a bad option.
#pragma once

#include <stdexcept>

namespace parklock::launcher {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace parklock::launcher
