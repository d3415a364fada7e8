// TempDir: a fresh directory under $TMPDIR (or /tmp), removed with everything in it at the end
// of the test, read-only promoted bundles included. Set BUNDLEGATE_KEEP_TEST_DIRS=1 to keep it
// for a post-mortem.
#pragma once

#include <cstddef>
#include <string>

namespace bg::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + rel
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// Small file helpers for tests; they fail the test (Catch2 REQUIRE) on error.
void WriteFile(const std::string& path, const std::string& content);  // creates parent dirs
std::string ReadFile(const std::string& path);
void AppendFile(const std::string& path, const std::string& content);
// Replaces the first occurrence of `from` (which must occur) in the file.
void ReplaceInFile(const std::string& path, const std::string& from, const std::string& to);
// `n` bytes of deterministic noise (the same for the same seed): file content that compresses
// and deduplicates like a model's weights.
std::string RandomBytes(std::size_t n, unsigned seed);

}  // namespace bg::test
