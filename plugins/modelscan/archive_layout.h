// ArchiveLayout: what each entry of a torch ZIP archive is, by its name, and whether the
// archive as a whole is a TorchScript model (torch.jit.save), a torch.save checkpoint, or
// neither.
//
// Every entry sits under one top directory T (torch names it after the file). Known names:
//   T/data.pkl                   the object pickle (TorchScript and torch.save)
//   T/constants.pkl              TorchScript's tensor constants pickle
//   T/bytecode.pkl               the mobile (lite interpreter) bytecode pickle
//   T/code/<path>.py             TorchScript source, compiled at load
//   T/code/<path>.py.debug_pkl   source-range pickles for the code
//   T/data/<digits>              storages of data.pkl's tensors
//   T/constants/<digits>         storages of constants.pkl's tensors
//   T/version, T/.data/version   the format version (digits)
//   T/byteorder, T/.data/serialization_id   small metadata of newer writers
//   T/extra/<name>               torch.jit.save's _extra_files (arbitrary bytes)
// <path> components are identifiers. A name outside this list is reported: nothing LibTorch
// reads may hide there, and nothing another reader might load either.
// TorchScript: data.pkl, constants.pkl and code. Checkpoint: data.pkl without code or
// constants.pkl.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plugins/modelscan/zip_archive.h"

namespace bg::modelscan {

enum class EntryRole {
  kDataPickle,
  kConstantsPickle,
  kBytecodePickle,
  kDebugPickle,
  kCode,
  kDataStorage,
  kConstantStorage,
  kVersion,
  kMetadata,
  kExtra,
  kUnknown,
};

struct ArchiveLayout {
  enum Kind { kTorchScript, kCheckpoint, kOther };
  Kind kind = kOther;
  std::string top;                // T
  std::vector<EntryRole> roles;   // one per entry, in the archive's order
  std::vector<std::string> problems;  // unknown names, entries outside T
};

ArchiveLayout ClassifyEntries(const std::vector<ZipEntry>& entries);

// Whether `role` is a pickle that LibTorch or torch.load unpickles.
bool IsPickleRole(EntryRole role);

}  // namespace bg::modelscan
