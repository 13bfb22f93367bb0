// The registry: one line per command.
#include "runner/tools/bundle/bundle.h"
#include "runner/tools/cache/cache.h"
#include "runner/tools/check/check.h"
#include "runner/tools/doctor/doctor.h"
#include "runner/tools/drop/drop.h"
#include "runner/tools/exec/exec.h"
#include "runner/tools/profiles/profiles_tool.h"
#include "runner/tools/rst/rst.h"
#include "runner/tools/symbolize/symbolize.h"
#include "runner/tools/tool.h"
#include "runner/tools/trace/trace.h"

namespace skbtrail {

const std::vector<const Tool*>& tools() {
  static const std::vector<const Tool*> all = {
      &drop_tool(), &rst_tool(),    &trace_tool(), &symbolize_tool(), &doctor_tool(),
      &exec_tool(), &check_tool(), &bundle_tool(), &cache_tool(), &run_tool(), &list_tool(),
  };
  return all;
}

}  // namespace skbtrail
