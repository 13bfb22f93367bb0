// skbtrail cache list|clear: the compile cache (runner/session/compile_cache.h).
#pragma once

#include "runner/tools/tool.h"

namespace skbtrail {

const Tool& cache_tool();

}  // namespace skbtrail
