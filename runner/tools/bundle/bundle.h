// skbtrail bundle COMMAND [OPTIONS] -o FILE: compile what COMMAND with those
// options would load on a target kernel into one file (runner/session/bundle.h).
#pragma once

#include "runner/tools/tool.h"

namespace skbtrail {

const Tool& bundle_tool();

}  // namespace skbtrail
