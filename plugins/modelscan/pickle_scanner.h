// ScanPickle: walks a pickle opcode by opcode, without executing anything, and says what it
// would call.
//
// Loading a pickle runs whatever callables it names; scanners that only grep for GLOBAL
// opcodes, or match the two strings before STACK_GLOBAL, are bypassed by building the name
// from memoized strings, by attribute paths, by lookalike names, or by calling the result of a
// call. This walker instead models the unpickler's own state: the stack, the mark stack
// (metastack) and the memo, with the value kind of every item (string with its text, tuple
// with its first items, list, dict, set, global, object made by a call, ...). Then:
//   - every GLOBAL, STACK_GLOBAL and INST names a (module, name) that must be on the allowlist,
//     whether or not anything calls it; STACK_GLOBAL's operands must be strings whose text is
//     known exactly (from BINUNICODE & co., directly or through the memo), anything else is
//     refused;
//   - REDUCE, NEWOBJ, NEWOBJ_EX, OBJ and BUILD may only call (or set the state of) an allowed
//     global or an object one made: calling the result of a call, a string, a tuple... is
//     refused; APPEND(S), SETITEM(S), ADDITEMS must target a list, dict, set or such an object;
//   - BINPERSID's id must be what torch writes, ('storage', torch.<T>Storage, key, device,
//     numel) (legacy torch.save files add a sixth item, None or a view tuple): the storages it
//     names are returned for the caller to check against the archive;
//   - PERSID, EXT1/EXT2/EXT4 (the extension registry: a code that some other module maps to
//     a callable), NEXT_BUFFER/READONLY_BUFFER (out-of-band data) are refused;
//   - the pickle must be well formed: known opcodes, every argument inside the data, memo
//     references defined, marks balanced, STOP with exactly one value and nothing after it
//     (bytes after STOP are a second pickle for some other reader).
// Every protocol 0-5 opcode is understood. Memory is linear in the size of the pickle: no
// recursion, tuples keep only their first few items, strings only their first 256 bytes,
// and values without content (None, floats, lists...) are not stored one by one.
//
// Thread safety: pure function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/modelscan/pickle_allowlist.h"

namespace bg::modelscan {

struct PickleGlobal {
  std::string module;
  std::string name;
  bool allowed = false;
};

struct StorageRef {
  std::string key;           // as written ("0"); the caller knows the directory
  std::size_t item_size = 0;  // of the storage type
  std::uint64_t numel = 0;
  std::string type;  // "FloatStorage"
};

struct PickleScan {
  // Problems, each "<opcode> at byte N: ...". A disallowed global is reported with its name;
  // the walk goes on after one (to name them all) but stops at a malformed opcode.
  std::vector<std::string> problems;
  bool disallowed_global = false;  // a problem is an unlisted global
  std::vector<PickleGlobal> globals;  // distinct, in order of appearance
  std::vector<StorageRef> storages;
  std::size_t opcodes = 0;
  int protocol = 0;
  std::size_t length = 0;  // bytes up to and including STOP

  bool ok() const { return problems.empty(); }
};

// Scans one pickle at the start of `bytes`. With `allow_trailing`, bytes after STOP are
// allowed (and `length` says where the next thing starts: legacy torch.save files are several
// pickles in a row).
PickleScan ScanPickle(std::string_view bytes, const PickleAllowlist& allowlist,
                      bool allow_trailing = false);

// "torch._utils._rebuild_tensor_v2" for messages (non-printable bytes escaped).
std::string GlobalName(const PickleGlobal& global);

}  // namespace bg::modelscan
