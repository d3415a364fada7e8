// Request parsing. This file is the adapter to nlohmann::json's parser for requests: its
// exceptions are caught here.
#include "plugins/sdk/request.h"

#include "plugins/sdk/bundle_file.h"

namespace bg::sdk {
namespace {

Result<Json> ParseJson(std::string_view text) {
  // nlohmann's parser stops at a NUL byte as if the input ended there; valid JSON has none.
  if (text.find('\0') != std::string_view::npos) return Status::Error("request holds a NUL byte");
  if (const std::size_t depth = JsonNestingDepth(text); depth > kMaxRequestDepth) {
    return Status::Error("request is nested " + std::to_string(depth) + " levels deep, more than " +
                         std::to_string(kMaxRequestDepth));
  }
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    std::string what = e.what();
    const auto cut = what.find("] ");
    return Status::Error("request is not valid JSON: " +
                         (cut == std::string::npos ? what : what.substr(cut + 2)));
  }
}

Status CheckProtocol(const Json& j) {
  const auto it = j.find("protocol");
  if (it == j.end()) return Status::Error("request lacks \"protocol\"");
  if (!it->is_number_integer() || it->get<std::int64_t>() != kProtocolVersion) {
    return Status::Error("request protocol " + DumpJson(*it) +
                         " is not supported (this plugin speaks " +
                         std::to_string(kProtocolVersion) + ")");
  }
  return Status::Ok();
}

Result<std::string> BundleDir(const Json& j) {
  const auto it = j.find("bundle_dir");
  if (it == j.end() || !it->is_string())
    return Status::Error("request lacks a string \"bundle_dir\"");
  std::string dir = it->get<std::string>();
  if (dir.empty() || dir.front() != '/' || dir.find('\0') != std::string::npos) {
    return Status::Error("request bundle_dir \"" + dir + "\" is not an absolute path");
  }
  return dir;
}

Result<Json> ObjectField(const Json& j, const char* key, bool required) {
  const auto it = j.find(key);
  if (it == j.end()) {
    if (required) return Status::Error(std::string("request lacks \"") + key + "\"");
    return Json::object();
  }
  if (!it->is_object())
    return Status::Error(std::string("request \"") + key + "\" is not an object");
  return *it;
}

}  // namespace

Result<Request> ParseRequest(std::string_view text) {
  BG_SDK_ASSIGN_OR_RETURN(Json j, ParseJson(text));
  if (!j.is_object()) return Status::Error("request is not a JSON object");
  BG_SDK_RETURN_IF_ERROR(CheckProtocol(j));
  Request r;
  BG_SDK_ASSIGN_OR_RETURN(r.bundle_dir, BundleDir(j));
  BG_SDK_ASSIGN_OR_RETURN(r.manifest, ObjectField(j, "manifest", true));
  BG_SDK_ASSIGN_OR_RETURN(r.config, ObjectField(j, "config", false));
  return r;
}

Result<Request> ReadRequest(int fd) {
  BG_SDK_ASSIGN_OR_RETURN(std::string text,
                          ReadAllBounded(fd, kMaxRequestBytes, "request on stdin"));
  if (text.empty()) return Status::Error("no request on stdin");
  return ParseRequest(text);
}

}  // namespace bg::sdk
