// PickleAllowlist: the globals a pickle in a model archive may name, and nothing else.
//
// The TorchScript list is what LibTorch's own unpickler (torch/csrc/jit/serialization/
// unpickler.cpp, readGlobal) resolves, checked against the archives python3-torch writes here:
//   collections.OrderedDict, builtins.complex, torch.device;
//   torch._utils._rebuild_tensor_v2 / _rebuild_qtensor / _rebuild_sparse_tensor,
//   torch._tensor._rebuild_from_type_v2;
//   torch.jit._pickle.build_intlist / build_tensorlist / build_doublelist / build_boollist /
//   build_tensor_from_id / restore_type_tag;
//   torch.<Scalar>Storage for LibTorch's scalar types, and the qscheme names
//   (torch.per_tensor_affine ...);
//   the classes TorchScript writes: a module "__torch__" or "__torch__.<identifier>..." and a
//   class that is an identifier (the archive's own code/, or torch.classes.*).
// Left out on purpose, though LibTorch knows them: __main__.TensorID / IntList (a pre-1.4
// writer's) and torch.distributed.rpc.rref (not in a saved model).
// The checkpoint list (for torch.save files, which are scanned before they are refused as not
// TorchScript) adds torch._utils._rebuild_parameter and _rebuild_parameter_with_state, which
// torch.save writes for nn.Parameter values.
// Names are compared byte for byte: "os ", "OS", "builtins\n" or a lookalike letter is simply
// another name, and so not allowed; an attribute path ("OrderedDict.fromkeys", which protocol 4
// resolves with getattr) is not an allowed name either.
//
// Thread safety: immutable singletons.
#pragma once

#include <cstddef>
#include <string_view>

namespace bg::modelscan {

class PickleAllowlist {
 public:
  static const PickleAllowlist& TorchScript();
  static const PickleAllowlist& Checkpoint();

  bool Allowed(std::string_view module, std::string_view name) const;
  // The element size of a storage global (torch.FloatStorage: 4); 0 for anything else.
  static std::size_t StorageItemSize(std::string_view module, std::string_view name);

 private:
  explicit PickleAllowlist(bool checkpoint) : checkpoint_(checkpoint) {}
  bool checkpoint_;
};

// A TorchScript class reference: "__torch__" or "__torch__.a.b_c" and an identifier.
bool IsTorchScriptClass(std::string_view module, std::string_view name);

}  // namespace bg::modelscan
