#include "engine/model/tensor_source.h"

#include <stdexcept>

namespace parklock::engine {

std::string shape_text(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

void read_checked(const TensorSource& source, const std::string& name,
                  std::span<const int64_t> shape, std::span<float> dst) {
  const auto actual = source.shape_of(name);
  if (!actual)
    throw std::runtime_error(source.description() + ": missing tensor '" + name + "'");
  if (!std::equal(actual->begin(), actual->end(), shape.begin(), shape.end()))
    throw std::runtime_error(source.description() + ": tensor '" + name + "' has shape " +
                             shape_text(*actual) + ", expected " + shape_text(shape));
  source.read_f32(name, dst);
}

}  // namespace parklock::engine
