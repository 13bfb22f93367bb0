// skbtrail symbolize: faddr2line's job, built in.
#pragma once

#include <string>
#include <vector>

#include "runner/tools/tool.h"

namespace skbtrail {

struct SymbolizeOptions {
  std::string vmlinux;
  std::string modules_dir;
  std::string release;
  bool exact = false;  // `-`: do not look up return addresses at off-1
  std::vector<std::string> args;  // frames, or "-" for text on stdin
};

const Tool& symbolize_tool();

}  // namespace skbtrail
