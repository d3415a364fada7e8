// DecisionExecutor::Run: the state of one Execute or Resume, shared by the executor's files
// (decision_executor.cpp, executor_promote.cpp, executor_quarantine.cpp). Private to them.
#pragma once

#include "agent/serving/decision_executor.h"
#include "agent/serving/journal.h"

namespace bg {

struct DecisionExecutor::Run {
  const WorkItem& item;
  DecisionJournal journal;
  ExecutionResult out;
  int redecisions = 0;
};

}  // namespace bg
