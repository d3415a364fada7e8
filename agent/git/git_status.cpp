#include "agent/git/git_status.h"

#include <git2/errors.h>

#include <string>

namespace bg {

Status GitStatus(int code, std::string_view doing) {
  if (code >= 0) return Status::Ok();
  const git_error* last = git_error_last();
  std::string message(doing);
  message += ": ";
  if (last != nullptr && last->message != nullptr && last->message[0] != '\0') {
    message += last->message;
  } else {
    message += "libgit2 error " + std::to_string(code);
  }
  return Status::Error(std::move(message));
}

}  // namespace bg
