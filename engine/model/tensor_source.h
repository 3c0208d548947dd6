// Where weights come from: a safetensors file, or the synthetic generator.
// Model and LoRA loading read through this interface, tensor by tensor, so a
// multi-gigabyte checkpoint is never held twice in memory.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace parklock::engine {

class TensorSource {
 public:
  virtual ~TensorSource() = default;
  // Names the source in error messages (a file path, or the generator and seed).
  virtual const std::string& description() const = 0;
  virtual std::vector<std::string> tensor_names() const = 0;
  // Empty when the source has no tensor of that name.
  virtual std::optional<std::vector<int64_t>> shape_of(const std::string& name) const = 0;
  // Converts the tensor to fp32 into dst, which holds exactly its element count.
  virtual void read_f32(const std::string& name, std::span<float> dst) const = 0;
  virtual const std::map<std::string, std::string>& metadata() const = 0;
  // The tensor's fp32 values in place, when the source holds `name` with
  // exactly `shape` as aligned F32 that lives as long as the source (a
  // mapped file); nullptr otherwise (then read_f32 converts a copy).
  virtual const float* f32_data(const std::string& /*name*/,
                                std::span<const int64_t> /*shape*/) const {
    return nullptr;
  }
};

// "[2048, 64]"
std::string shape_text(std::span<const int64_t> shape);

// Reads `name` into dst after checking that it exists with exactly `shape`;
// throws std::runtime_error "<source>: tensor '<name>' ..." otherwise.
void read_checked(const TensorSource& source, const std::string& name,
                  std::span<const int64_t> shape, std::span<float> dst);

}  // namespace parklock::engine
