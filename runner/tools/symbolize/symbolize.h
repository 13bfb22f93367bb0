// skbtrail symbolize: faddr2line's job, built in (the work is in the LLVM
// plugin: runner/llvm/symbolize_command.cpp).
#pragma once

#include "runner/output/source_lines.h"
#include "runner/tools/tool.h"

namespace skbtrail {

const Tool& symbolize_tool();

}  // namespace skbtrail
