// A lockfile in a bundle (uv.lock): ParseUvLock, then the policy's use of what it found.
#include "agent/lockfile/uv_lock.h"
#include "tests/fuzz/lockfile_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return bg::fuzz::FuzzLockfile(data, size, [](std::string_view text) { return bg::ParseUvLock(text, "uv.lock"); });
}
