// TorchModel: the one adapter between the check and LibTorch. Its header is free of LibTorch
// types (the module lives behind a pointer), so that only torch_model.cpp pays for LibTorch's
// headers; every LibTorch exception (c10::Error, std::exception) is caught in that file and
// comes back as a Status carrying LibTorch's message (without its C++ backtrace).
//
// Portability: it uses only APIs present, with the same meaning, in LibTorch 1.13 and 2.x:
// torch::jit::load(std::istream&, device) (the reader-adapter overloads moved from caffe2:: to
// torch::serialize:: in recent releases; the istream one never changed),
// jit::Module::named_modules / named_parameters / named_buffers / is_training / hasattr / attr /
// forward, IValue::isTensor / isTuple / isList / isGenericDict, c10::InferenceMode,
// c10::Error::what_without_backtrace, at::set_num_threads,
// torch::jit::setGraphExecutorOptimize, torch::cuda::is_available / device_count / synchronize,
// TORCH_VERSION, at::Tensor's to / contiguous / data_ptr / numel / element_size / sizes /
// scalar_type, and at::globalContext()'s setAllowTF32CuBLAS / setAllowTF32CuDNN /
// allowTF32CuBLAS / allowTF32CuDNN / setDeterministicAlgorithms(bool, bool) /
// setDeterministicCuDNN / setBenchmarkCuDNN. Of TF32's two APIs it uses only the older one
// (present in 1.13 and 2.x; 2.9 added fp32_precision and warns that mixing the two is an error),
// and it never calls the newer one.
// It avoids what changed between them: it never spells c10::optional (an alias of std::optional
// since 2.4; device arguments convert implicitly), never calls Tensor::data<T>() (deprecated
// for years), nor torch::jit::load's later extra parameters, nor the scalar types added in
// 2.x (UInt16..UInt64, Float8_*): an output of a dtype outside sdk::Dtype is a clean error.
//
// Thread safety: a TorchModel is used by one thread at a time. The process-wide settings
// (SetTorchThreads, SetJitOptimize) are meant for main's thread, before any forward.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "plugins/sdk/status.h"
#include "plugins/sdk/tensor.h"
#include "plugins/torchscript/architecture.h"
#include "plugins/torchscript/parity_data.h"

namespace bg::torchscript {

struct TorchRuntime {
  std::string libtorch;  // TORCH_VERSION, e.g. "1.13.0"
  bool cuda = false;     // present (and, when probed, a small computation on device 0 worked)
  std::int64_t cuda_device_count = 0;
  // Set when CUDA is reported present but that computation failed (a driver or toolkit
  // mismatch, a device in a bad state): the runtime is broken, which says nothing about a
  // bundle. LibTorch's message.
  std::string cuda_error;
};

// What this LibTorch offers. With `probe_cuda`, a present CUDA must also run a tiny kernel
// (which costs a CUDA context: only when CUDA is wanted). Cached per argument.
TorchRuntime DescribeTorchRuntime(bool probe_cuda);
void SetTorchThreads(std::int64_t threads);
void SetJitOptimize(bool optimize);

// How CUDA math runs: as the serving process will run it. Process-wide; set before any forward.
struct CudaMath {
  enum class Tf32 { kLibtorchDefault, kOn, kOff };
  Tf32 tf32 = Tf32::kLibtorchDefault;  // LibTorch's own default: cuBLAS off, cuDNN on
  bool deterministic = false;          // deterministic algorithms, cuDNN deterministic
};
// Applies `math` and returns what is in effect (for the report): tf32_cublas, tf32_cudnn,
// deterministic. Deterministic mode also sets CUBLAS_WORKSPACE_CONFIG=:4096:8 unless set
// (cuBLAS needs it for reproducible results), so call it before CUDA is first used.
struct CudaMathState {
  bool tf32_cublas = false;
  bool tf32_cudnn = false;
  bool deterministic = false;
};
CudaMathState ApplyCudaMath(const CudaMath& math);

class TorchModel {
 public:
  // Loads a TorchScript archive (the file's bytes, read by the caller from a descriptor opened
  // without following symlinks) onto `device` ("cpu" or "cuda"), with
  // torch::jit::load(std::istream&) over the bytes, uncopied. The error is LibTorch's message.
  static sdk::Result<TorchModel> Load(std::string bytes, const std::string& device);

  TorchModel(TorchModel&&) noexcept;
  TorchModel& operator=(TorchModel&&) noexcept;
  ~TorchModel();

  // Names of the modules (the root is "<root>") whose `training` flag is set.
  std::vector<std::string> TrainingModules() const;
  // Every parameter and buffer, recursively, named as in state_dict.
  sdk::Result<std::vector<ModuleTensor>> Tensors() const;
  // The string attribute `name`: nullopt when the module has none; an error when it is not a
  // string.
  sdk::Result<std::optional<std::string>> StringAttribute(const std::string& name) const;
  // Runs forward under c10::InferenceMode on `inputs` (copied to the model's device) and brings
  // the outputs back to the host: a tensor is output "0", a tuple's or list's items "0", "1",
  // ..., a dict's items by key. Any exception (from the model or from LibTorch) is an error
  // with its message; an output that is neither a tensor nor such a container of tensors, or a
  // tensor of a dtype outside sdk::Dtype, is an error too.
  sdk::Result<Outputs> Forward(const std::vector<sdk::HostTensor>& inputs) const;

 private:
  struct Impl;
  explicit TorchModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bg::torchscript
