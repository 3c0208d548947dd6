#include "engine/model/backend_select.h"

#include "engine/model/model.h"

#if PARKLOCK_HAVE_CUDA
#include "engine/model/cuda_backend.h"
#include "kernels/cuda/device.h"
#endif

namespace parklock::engine {

const char* device_name(Device device) {
  switch (device) {
    case Device::kAuto: return "auto";
    case Device::kCpu: return "cpu";
    case Device::kCuda: return "cuda";
  }
  return "?";
}

Device device_from_name(const std::string& name) {
  for (const Device d : {Device::kAuto, Device::kCpu, Device::kCuda})
    if (name == device_name(d)) return d;
  throw std::invalid_argument("unknown device '" + name + "' (auto, cuda or cpu)");
}

bool cuda_backend_built() { return PARKLOCK_HAVE_CUDA != 0; }

DeviceChoice choose_device(Device requested) {
  if (requested == Device::kCpu) return {Device::kCpu, "requested"};
#if PARKLOCK_HAVE_CUDA
  if (kernels::cuda::cuda_device_available()) {
    const kernels::cuda::DeviceInfo info = kernels::cuda::device_info();
    return {Device::kCuda, std::string(requested == Device::kAuto ? "auto: " : "requested: ") + info.name + ", " +
                               std::to_string(info.sm_count) + " SMs"};
  }
  const std::string why = "no usable CUDA device (" + kernels::cuda::cuda_unavailable_reason() + ")";
#else
  const std::string why = "this build has no CUDA support (configured without a CUDA compiler, or with PARKLOCK_CUDA=OFF)";
#endif
  if (requested == Device::kCuda) throw DeviceUnavailable("--device cuda: " + why);
  return {Device::kCpu, "auto: " + why};
}

std::unique_ptr<ModelBackend> make_backend(Device device, LoadedModel model) {
  switch (device) {
    case Device::kCpu: return std::make_unique<Model>(std::move(model));
    case Device::kCuda:
#if PARKLOCK_HAVE_CUDA
      return std::make_unique<CudaBackend>(std::move(model));
#else
      break;
#endif
    case Device::kAuto: break;
  }
  throw std::logic_error(std::string("make_backend: no backend for device ") + device_name(device) +
                         " in this build");
}

}  // namespace parklock::engine
