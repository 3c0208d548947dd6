// safetensors reader; the writer is in safetensors_writer.cpp.
#include "engine/model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/model/float_convert.h"
#include "engine/model/strict_json.h"

namespace parklock::engine {

const char* dtype_name(Dtype dtype) {
  switch (dtype) {
    case Dtype::kF32: return "F32";
    case Dtype::kF16: return "F16";
    case Dtype::kBF16: return "BF16";
  }
  return "?";
}

size_t dtype_size(Dtype dtype) { return dtype == Dtype::kF32 ? 4 : 2; }

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

namespace {

// Closes the descriptor on every path out of the constructor.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::optional<Dtype> parse_dtype(const std::string& s) {
  if (s == "F32") return Dtype::kF32;
  if (s == "F16") return Dtype::kF16;
  if (s == "BF16") return Dtype::kBF16;
  return std::nullopt;
}

}  // namespace

void SafetensorsFile::fail(const std::string& what) const {
  throw SafetensorsError(path_ + ": " + what);
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) fail(std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) fail(std::string("cannot stat: ") + std::strerror(errno));
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 8)
    fail("file is " + std::to_string(file_size) + " bytes, too small for the 8-byte header length");
  void* m = ::mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, f.fd, 0);
  if (m == MAP_FAILED) fail(std::string("cannot mmap: ") + std::strerror(errno));
  map_ = static_cast<const unsigned char*>(m);
  map_size_ = file_size;
  try {
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | map_[i];  // little-endian
    if (header_len > file_size - 8)
      fail("header length " + std::to_string(header_len) + " exceeds the " +
           std::to_string(file_size - 8) + " bytes after the length field (truncated file?)");
    data_ = map_ + 8 + header_len;
    parse_header(std::string_view(reinterpret_cast<const char*>(map_ + 8), header_len),
                 file_size - 8 - header_len);
  } catch (...) {
    ::munmap(const_cast<unsigned char*>(map_), map_size_);
    throw;
  }
}

SafetensorsFile::~SafetensorsFile() { ::munmap(const_cast<unsigned char*>(map_), map_size_); }

void SafetensorsFile::parse_header(std::string_view json, uint64_t data_size) {
  Json root;
  try {
    root = parse_strict_json(json);
  } catch (const JsonError& e) {
    fail(std::string("header is not valid JSON: ") + e.what());
  }
  if (!root.is_object()) fail("header must be a JSON object");

  for (const auto& [name, entry] : root.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) fail("__metadata__ must be an object of strings");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) fail("__metadata__ value of '" + key + "' must be a string");
        metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + name + "': ";
    if (!entry.is_object()) fail(where + "entry must be an object");
    for (const auto& member : entry.items())
      if (member.key() != "dtype" && member.key() != "shape" && member.key() != "data_offsets")
        fail(where + "unknown field '" + member.key() + "'");
    for (const char* field : {"dtype", "shape", "data_offsets"})
      if (!entry.contains(field)) fail(where + "missing field '" + field + "'");
    const Json& dtype = entry["dtype"];
    const Json& shape = entry["shape"];
    const Json& offsets = entry["data_offsets"];

    TensorInfo info;
    info.name = name;
    if (!dtype.is_string()) fail(where + "dtype must be a string");
    const auto parsed = parse_dtype(dtype.get<std::string>());
    if (!parsed)
      fail(where + "unsupported dtype '" + dtype.get<std::string>() +
           "' (supported: F32, F16, BF16)");
    info.dtype = *parsed;

    if (!shape.is_array()) fail(where + "shape must be an array");
    uint64_t numel = 1;
    for (const Json& d : shape) {
      const int64_t dim = exact_int64(d).value_or(-1);
      if (dim < 0) fail(where + "shape must hold non-negative integers");
      // 2^48 elements is far past any real tensor and keeps numel * 4 exact.
      if (dim > 0 && numel > (uint64_t{1} << 48) / static_cast<uint64_t>(dim))
        fail(where + "shape is too large");
      numel *= static_cast<uint64_t>(dim);
      info.shape.push_back(dim);
    }

    if (!offsets.is_array() || offsets.size() != 2)
      fail(where + "data_offsets must be an array [begin, end]");
    const int64_t b = exact_int64(offsets[0]).value_or(-1);
    const int64_t e = exact_int64(offsets[1]).value_or(-1);
    if (b < 0 || e < 0) fail(where + "data_offsets must be non-negative integers");
    info.begin = static_cast<uint64_t>(b);
    info.end = static_cast<uint64_t>(e);
    const std::string span_text =
        "data_offsets [" + std::to_string(b) + ", " + std::to_string(e) + "]";
    if (info.begin > info.end) fail(where + span_text + " has begin after end");
    if (info.end > data_size)
      fail(where + span_text + " out of range: the data section is " + std::to_string(data_size) +
           " bytes (truncated file?)");
    const uint64_t need = numel * dtype_size(info.dtype);
    if (info.end - info.begin != need)
      fail(where + span_text + " span " + std::to_string(info.end - info.begin) +
           " bytes, but shape " + shape_text(info.shape) + " of " + dtype_name(info.dtype) +
           " needs " + std::to_string(need));
    index_[name] = tensors_.size();
    tensors_.push_back(std::move(info));
  }

  std::vector<const TensorInfo*> by_offset;
  for (const TensorInfo& t : tensors_)
    if (t.end > t.begin) by_offset.push_back(&t);  // empty tensors occupy no bytes
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i]->begin < by_offset[i - 1]->end)
      fail("tensors '" + by_offset[i - 1]->name + "' and '" + by_offset[i]->name +
           "' overlap in the data section");
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

std::vector<std::string> SafetensorsFile::tensor_names() const {
  std::vector<std::string> names;
  for (const TensorInfo& t : tensors_) names.push_back(t.name);
  return names;
}

std::optional<std::vector<int64_t>> SafetensorsFile::shape_of(const std::string& name) const {
  const TensorInfo* t = find(name);
  if (!t) return std::nullopt;
  return t->shape;
}

void SafetensorsFile::read_f32(const std::string& name, std::span<float> dst) const {
  const TensorInfo* t = find(name);
  if (!t) fail("no tensor named '" + name + "'");
  const size_t n = static_cast<size_t>(t->numel());
  if (dst.size() != n)
    fail("tensor '" + name + "' has " + std::to_string(n) + " elements, destination holds " +
         std::to_string(dst.size()));
  const unsigned char* src = data_ + t->begin;
  // memcpy per element: offsets need not be aligned to the element size.
  switch (t->dtype) {
    case Dtype::kF32:
      std::memcpy(dst.data(), src, n * sizeof(float));
      break;
    case Dtype::kF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = f16_to_f32(h);
      }
      break;
    case Dtype::kBF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = bf16_to_f32(h);
      }
      break;
  }
}

const float* SafetensorsFile::f32_data(const std::string& name,
                                       std::span<const int64_t> shape) const {
  const TensorInfo* t = find(name);
  if (!t || t->dtype != Dtype::kF32 || !std::equal(t->shape.begin(), t->shape.end(), shape.begin(), shape.end()))
    return nullptr;
  const unsigned char* p = data_ + t->begin;
  if (reinterpret_cast<uintptr_t>(p) % alignof(float) != 0) return nullptr;
  return reinterpret_cast<const float*>(p);
}

std::vector<float> SafetensorsFile::read(const std::string& name) const {
  const TensorInfo* t = find(name);
  if (!t) fail("no tensor named '" + name + "'");
  std::vector<float> out(static_cast<size_t>(t->numel()));
  read_f32(name, out);
  return out;
}

}  // namespace parklock::engine
