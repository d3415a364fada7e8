#include "agent/plugin/file_identity.h"

#include <sys/stat.h>

#include "agent/core/errno_status.h"

namespace bg {
namespace {

std::int64_t Nanos(const struct timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

}  // namespace

Result<FileIdentity> FileIdentity::Of(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat of", path);
  FileIdentity id;
  id.device = static_cast<std::uint64_t>(st.st_dev);
  id.inode = static_cast<std::uint64_t>(st.st_ino);
  id.size = static_cast<std::uint64_t>(st.st_size);
  id.mtime_ns = Nanos(st.st_mtim);
  id.ctime_ns = Nanos(st.st_ctim);
  return id;
}

Json FileIdentity::ToJson() const {
  return {{"device", device}, {"inode", inode},       {"size", size},
          {"mtime_ns", mtime_ns}, {"ctime_ns", ctime_ns}};
}

std::optional<FileIdentity> FileIdentity::FromJson(const Json& j) {
  if (!j.is_object() || j.size() != 5) return std::nullopt;
  const auto unsigned_field = [&](const char* key, std::uint64_t& out) {
    if (!j.contains(key) || !j[key].is_number_unsigned()) return false;
    out = j[key].get<std::uint64_t>();
    return true;
  };
  const auto signed_field = [&](const char* key, std::int64_t& out) {
    if (!j.contains(key) || !j[key].is_number_integer()) return false;
    out = j[key].get<std::int64_t>();
    return true;
  };
  FileIdentity id;
  if (!unsigned_field("device", id.device) || !unsigned_field("inode", id.inode) ||
      !unsigned_field("size", id.size) || !signed_field("mtime_ns", id.mtime_ns) ||
      !signed_field("ctime_ns", id.ctime_ns)) {
    return std::nullopt;
  }
  return id;
}

}  // namespace bg
