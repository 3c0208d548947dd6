// safetensors reading (mmap, validated) and writing.
//
// File layout: an 8-byte little-endian header length N, N bytes of JSON
//   {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
//    ..., "__metadata__": {"<key>": "<string>", ...}}
// then the data section; offsets are relative to its start.
//
// The reader checks everything before any tensor is touched: the header
// length against the file size, strict JSON, known fields only, a supported
// dtype, non-negative shapes, offsets inside the data section whose span
// equals elements * dtype size, and no two tensors sharing bytes. Gaps
// between tensors are accepted: they are harmless, and aligning writers
// leave them. Every error is a SafetensorsError "<path>: <what is wrong>".
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/model/tensor_source.h"

namespace parklock::engine {

class SafetensorsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Dtype { kF32, kF16, kBF16 };
const char* dtype_name(Dtype dtype);  // "F32", "F16", "BF16"
size_t dtype_size(Dtype dtype);

struct TensorInfo {
  std::string name;
  Dtype dtype = Dtype::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets into the data section, [begin, end)
  uint64_t end = 0;
  int64_t numel() const;
};

// A read-only mapping of one file; tensors are converted to fp32 on read,
// or (F32) viewed in place.
class SafetensorsFile final : public TensorSource {
 public:
  // Maps and validates the file; throws SafetensorsError.
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile() override;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in header order
  const TensorInfo* find(const std::string& name) const;
  std::vector<float> read(const std::string& name) const;

  const std::string& description() const override { return path_; }
  std::vector<std::string> tensor_names() const override;
  std::optional<std::vector<int64_t>> shape_of(const std::string& name) const override;
  void read_f32(const std::string& name, std::span<float> dst) const override;
  const std::map<std::string, std::string>& metadata() const override { return metadata_; }
  // F32 tensors aligned to 4 bytes are served from the mapping.
  const float* f32_data(const std::string& name, std::span<const int64_t> shape) const override;

 private:
  [[noreturn]] void fail(const std::string& what) const;
  void parse_header(std::string_view json, uint64_t data_size);

  std::string path_;
  const unsigned char* map_ = nullptr;  // whole file
  size_t map_size_ = 0;
  const unsigned char* data_ = nullptr;  // start of the data section
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> index_;  // name -> position in tensors_
  std::map<std::string, std::string> metadata_;
};

// One tensor to write. fill receives a buffer of numel floats to fill; it
// is called once, while the tensor is written, so generated tensors need
// not all be in memory at once.
struct SafetensorsEntry {
  std::string name;
  std::vector<int64_t> shape;
  Dtype dtype = Dtype::kF32;  // stored dtype (converted from the fp32 fill)
  std::function<void(std::span<float>)> fill;

  static SafetensorsEntry of(std::string name, std::vector<int64_t> shape,
                             std::span<const float> data, Dtype dtype = Dtype::kF32);
};

// Writes entries in order, the header padded with spaces to a multiple of 8
// bytes so the data section is aligned. Writes to "<path>.tmp" and renames,
// so readers never see a half-written file. Throws SafetensorsError.
void write_safetensors(const std::string& path, std::span<const SafetensorsEntry> entries,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace parklock::engine
