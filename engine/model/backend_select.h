// Which backend runs a model (--device auto|cuda|cpu), decided once per
// process: auto takes the GPU when CUDA support is built in and a device
// is usable, else the CPU; cuda insists and says why it cannot.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "engine/model/loaded_model.h"
#include "engine/model/model_backend.h"

namespace parklock::engine {

enum class Device { kAuto, kCpu, kCuda };

// "auto", "cpu", "cuda", and back (std::invalid_argument for other names).
const char* device_name(Device device);
Device device_from_name(const std::string& name);

// Thrown when --device cuda cannot be honoured.
class DeviceUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DeviceChoice {
  Device device = Device::kCpu;  // kCpu or kCuda, never kAuto
  std::string reason;            // one line: what was asked and what was found
};

// Whether this build holds the CUDA backend (CMake found nvcc).
bool cuda_backend_built();

// Resolves `requested`. Throws DeviceUnavailable for kCuda without CUDA
// support built in or without a usable device (the runtime's reason).
// Never touches the GPU beyond asking whether there is one.
DeviceChoice choose_device(Device requested);

// The backend for a resolved choice (kCpu or kCuda; kCuda only when
// cuda_backend_built(), else std::logic_error).
std::unique_ptr<ModelBackend> make_backend(Device device, LoadedModel model);

}  // namespace parklock::engine
