#include "agent/daemon/log_fields.h"

namespace bg {
namespace {

thread_local std::vector<const LogFields*> scopes;

}  // namespace

ScopedLogFields::ScopedLogFields(LogFields fields) : fields_(std::move(fields)) {
  scopes.push_back(&fields_);
}

ScopedLogFields::~ScopedLogFields() { scopes.pop_back(); }

LogFields CurrentLogFields() {
  LogFields all;
  for (const LogFields* f : scopes) all.insert(all.end(), f->begin(), f->end());
  return all;
}

}  // namespace bg
