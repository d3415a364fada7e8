// ReadFileContents: a whole (small) file as a string, for the agent's own records and configs
// (config, intake.json, journal.jsonl, status.json, a served bundle.toml). Bundle files are not
// read this way: they go through BundleDir, which refuses symlinks and bounds sizes.
#pragma once

#include <optional>
#include <string>

namespace bg {

// The file's bytes; nullopt when it cannot be opened or read.
std::optional<std::string> ReadFileContents(const std::string& path);

}  // namespace bg
