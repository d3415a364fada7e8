// A lockfile in a bundle (requirements.lock): ParseRequirementsTxt, then the policy's use of what it found.
#include "agent/lockfile/requirements_txt.h"
#include "tests/fuzz/lockfile_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return bg::fuzz::FuzzLockfile(data, size, [](std::string_view text) { return bg::ParseRequirementsTxt(text, "requirements.lock"); });
}
