#include "agent/core/status.h"

namespace bg {

std::string Status::ToString() const {
  if (ok()) return "ok";
  if (reason_ == Reason::kNone) return message_;
  return std::string(ReasonCode(reason_)) + ": " + message_;
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  Status s(reason_, context + ": " + message_);
  s.errno_ = errno_;
  return s;
}

}  // namespace bg
