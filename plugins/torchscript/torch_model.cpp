// The LibTorch adapter (see torch_model.h). The only translation unit that includes LibTorch.
#include "plugins/torchscript/torch_model.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <istream>
#include <streambuf>
#include <utility>

#include "plugins/sdk/result.h"

namespace bg::torchscript {
namespace {

using sdk::Dtype;
using sdk::Status;

// An istream over bytes in memory, without copying them (std::istringstream would). Seekable,
// as LibTorch's reader needs.
class MemoryBuf : public std::streambuf {
 public:
  MemoryBuf(char* data, std::size_t size) { setg(data, data, data + size); }

 protected:
  pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode) override {
    const off_type base = dir == std::ios_base::beg   ? 0
                          : dir == std::ios_base::cur ? gptr() - eback()
                                                      : egptr() - eback();
    const off_type to = base + off;
    if (to < 0 || to > egptr() - eback()) return pos_type(off_type(-1));
    setg(eback(), eback() + to, egptr());
    return pos_type(to);
  }
  pos_type seekpos(pos_type pos, std::ios_base::openmode which) override {
    return seekoff(off_type(pos), std::ios_base::beg, which);
  }
};

// LibTorch's message without the C++ backtrace that c10::Error appends.
std::string Message(const c10::Error& e) { return e.what_without_backtrace(); }

template <typename Fn>
auto Guarded(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const c10::Error& e) {
    return Status::Error(Message(e));
  } catch (const std::exception& e) {
    return Status::Error(e.what());
  }
}

const std::pair<c10::ScalarType, Dtype> kDtypes[] = {
    {c10::ScalarType::Half, Dtype::kF16},  {c10::ScalarType::BFloat16, Dtype::kBF16},
    {c10::ScalarType::Float, Dtype::kF32}, {c10::ScalarType::Double, Dtype::kF64},
    {c10::ScalarType::Char, Dtype::kI8},   {c10::ScalarType::Short, Dtype::kI16},
    {c10::ScalarType::Int, Dtype::kI32},   {c10::ScalarType::Long, Dtype::kI64},
    {c10::ScalarType::Byte, Dtype::kU8},   {c10::ScalarType::Bool, Dtype::kBool},
};

c10::ScalarType ToScalarType(Dtype dtype) {
  for (const auto& [st, d] : kDtypes) {
    if (d == dtype) return st;
  }
  return c10::ScalarType::Float;
}

std::optional<Dtype> ToDtype(c10::ScalarType st) {
  for (const auto& [s, d] : kDtypes) {
    if (s == st) return d;
  }
  return std::nullopt;
}

// torch's Python name of a scalar type ("float32"), for signatures.
std::string TorchDtypeName(c10::ScalarType st) {
  if (auto d = ToDtype(st)) return std::string(sdk::TorchName(*d));
  switch (st) {
    case c10::ScalarType::ComplexFloat:
      return "complex64";
    case c10::ScalarType::ComplexDouble:
      return "complex128";
    case c10::ScalarType::QInt8:
      return "qint8";
    case c10::ScalarType::QUInt8:
      return "quint8";
    case c10::ScalarType::QInt32:
      return "qint32";
    default:
      return c10::toString(st);
  }
}

at::Tensor ToTorch(const sdk::HostTensor& t, const c10::Device& device) {
  at::Tensor out = torch::empty(t.shape, torch::TensorOptions().dtype(ToScalarType(t.dtype)));
  if (!t.data.empty()) std::memcpy(out.data_ptr(), t.data.data(), t.data.size());
  return device.is_cpu() ? out : out.to(device);
}

sdk::Result<sdk::HostTensor> ToHost(const at::Tensor& tensor, const std::string& key) {
  const auto dtype = ToDtype(tensor.scalar_type());
  if (!dtype) {
    return Status::Error("output '" + key + "' has dtype " + TorchDtypeName(tensor.scalar_type()) +
                         ", which the parity data cannot hold");
  }
  const at::Tensor cpu = tensor.to(c10::Device(c10::kCPU)).contiguous();
  sdk::HostTensor out{
      *dtype, std::vector<std::int64_t>(cpu.sizes().begin(), cpu.sizes().end()), {}};
  out.data.resize(static_cast<std::size_t>(cpu.numel()) *
                  static_cast<std::size_t>(cpu.element_size()));
  if (!out.data.empty()) std::memcpy(out.data.data(), cpu.data_ptr(), out.data.size());
  return out;
}

sdk::Result<Outputs> Flatten(const c10::IValue& value) {
  std::vector<std::pair<std::string, c10::IValue>> items;
  if (value.isTensor()) {
    items.emplace_back("0", value);
  } else if (value.isTuple() || value.isList()) {
    const auto elements =
        value.isTuple() ? value.toTuple()->elements().vec() : value.toList().vec();
    for (std::size_t i = 0; i < elements.size(); ++i)
      items.emplace_back(std::to_string(i), elements[i]);
  } else if (value.isGenericDict()) {
    for (const auto& entry : value.toGenericDict()) {
      if (!entry.key().isString())
        return Status::Error("forward returned a dict whose keys are not strings");
      items.emplace_back(entry.key().toStringRef(), entry.value());
    }
  } else {
    return Status::Error("forward returned a " + value.tagKind() +
                         "; expected a tensor, or a tuple, list or dict of tensors");
  }
  Outputs outputs;
  for (const auto& [key, item] : items) {
    if (!item.isTensor()) {
      return Status::Error("output '" + key + "' is a " + item.tagKind() + ", not a tensor");
    }
    BG_SDK_ASSIGN_OR_RETURN(auto host, ToHost(item.toTensor(), key));
    outputs.push_back({key, std::move(host)});
  }
  return outputs;
}

}  // namespace

struct TorchModel::Impl {
  torch::jit::Module module;
  c10::Device device{c10::kCPU};
};

TorchModel::TorchModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TorchModel::TorchModel(TorchModel&&) noexcept = default;
TorchModel& TorchModel::operator=(TorchModel&&) noexcept = default;
TorchModel::~TorchModel() = default;

namespace {

TorchRuntime ProbeTorchRuntime(bool probe_cuda) {
  TorchRuntime r;
  r.libtorch = TORCH_VERSION;
  bool present = false;
  try {
    present = torch::cuda::is_available();
    r.cuda_device_count = static_cast<std::int64_t>(torch::cuda::device_count());
  } catch (const c10::Error& e) {
    r.cuda_error = Message(e);
  } catch (const std::exception& e) {
    r.cuda_error = e.what();
  }
  r.cuda = present;
  if (!present || !probe_cuda) return r;
  r.cuda = false;
  // Present is not usable: a driver older than the toolkit, or a device in a bad state, show
  // only when a kernel runs. One tiny computation, synchronized, tells the two apart.
  try {
    const at::Tensor t = torch::ones({4}, torch::TensorOptions().device(c10::kCUDA));
    const double sum = (t * 2).sum().item<double>();
    torch::cuda::synchronize();
    if (sum != 8.0) throw std::runtime_error("the CUDA probe computed " + std::to_string(sum));
    r.cuda = true;
  } catch (const c10::Error& e) {
    r.cuda_error = Message(e);
  } catch (const std::exception& e) {
    r.cuda_error = e.what();
  }
  return r;
}

}  // namespace

TorchRuntime DescribeTorchRuntime(bool probe_cuda) {
  static const TorchRuntime probed = ProbeTorchRuntime(true);
  if (probe_cuda) return probed;
  static const TorchRuntime plain = ProbeTorchRuntime(false);
  return plain;
}

CudaMathState ApplyCudaMath(const CudaMath& math) {
  auto& context = at::globalContext();
  if (math.tf32 != CudaMath::Tf32::kLibtorchDefault) {
    const bool on = math.tf32 == CudaMath::Tf32::kOn;
    context.setAllowTF32CuBLAS(on);
    context.setAllowTF32CuDNN(on);
  }
  if (math.deterministic) {
    ::setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", /*overwrite=*/0);
    context.setDeterministicAlgorithms(true, /*warn_only=*/false);
    context.setDeterministicCuDNN(true);
    context.setBenchmarkCuDNN(false);
  }
  return {context.allowTF32CuBLAS(), context.allowTF32CuDNN(), math.deterministic};
}

void SetTorchThreads(std::int64_t threads) {
  if (threads > 0) at::set_num_threads(static_cast<int>(threads));
}

void SetJitOptimize(bool optimize) { torch::jit::setGraphExecutorOptimize(optimize); }

sdk::Result<TorchModel> TorchModel::Load(std::string bytes, const std::string& device) {
  return Guarded([&]() -> sdk::Result<TorchModel> {
    auto impl = std::make_unique<Impl>();
    impl->device = c10::Device(device == "cuda" ? c10::kCUDA : c10::kCPU);
    MemoryBuf buf(bytes.data(), bytes.size());
    std::istream in(&buf);
    impl->module = torch::jit::load(in, impl->device);
    return TorchModel(std::move(impl));
  });
}

std::vector<std::string> TorchModel::TrainingModules() const {
  std::vector<std::string> names;
  for (const auto& m : impl_->module.named_modules()) {
    if (m.value.is_training()) names.push_back(m.name.empty() ? "<root>" : m.name);
  }
  return names;
}

sdk::Result<std::vector<ModuleTensor>> TorchModel::Tensors() const {
  return Guarded([&]() -> sdk::Result<std::vector<ModuleTensor>> {
    std::vector<ModuleTensor> out;
    auto add = [&](const std::string& name, const at::Tensor& t, const char* kind) {
      out.push_back({name, kind, std::vector<std::int64_t>(t.sizes().begin(), t.sizes().end()),
                     TorchDtypeName(t.scalar_type())});
    };
    for (const auto& p : impl_->module.named_parameters(true)) add(p.name, p.value, "parameter");
    for (const auto& b : impl_->module.named_buffers(true)) add(b.name, b.value, "buffer");
    return out;
  });
}

sdk::Result<std::optional<std::string>> TorchModel::StringAttribute(const std::string& name) const {
  return Guarded([&]() -> sdk::Result<std::optional<std::string>> {
    if (!impl_->module.hasattr(name)) return std::optional<std::string>();
    const c10::IValue v = impl_->module.attr(name);
    if (!v.isString())
      return Status::Error("attribute '" + name + "' is a " + v.tagKind() + ", not a string");
    return std::optional<std::string>(v.toStringRef());
  });
}

sdk::Result<Outputs> TorchModel::Forward(const std::vector<sdk::HostTensor>& inputs) const {
  return Guarded([&]() -> sdk::Result<Outputs> {
    c10::InferenceMode guard;
    std::vector<c10::IValue> args;
    for (const auto& t : inputs) args.emplace_back(ToTorch(t, impl_->device));
    const c10::IValue result = impl_->module.forward(std::move(args));
    // Kernels run asynchronously: wait for them here, so that a forward's time (and any
    // asynchronous CUDA error) belongs to this call, not to whatever touches the device next.
    if (impl_->device.is_cuda()) torch::cuda::synchronize();
    return Flatten(result);
  });
}

}  // namespace bg::torchscript
