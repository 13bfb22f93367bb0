// What the skbtrail binary carries inside: the BPF C programs (programs/)
// and the data files the runner loads (scripts/).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace skbtrail::resources {

struct BundledFile {
  std::string_view name;  // file name, e.g. "drop.bpf.c", "rst.rules", "rst.bt"
  std::string_view text;
};

const std::vector<BundledFile>& bundled_files();

// Text of one bundled file; throws std::runtime_error naming it when absent.
std::string_view bundled_text(std::string_view name);

// The program with its `#include "local.h"` lines replaced by the bundled
// files' text. BCC compiles one in-memory buffer, so quoted includes of our
// own headers must be inlined; <kernel> includes are left for BCC to resolve.
std::string expand_program(std::string_view name);

}  // namespace skbtrail::resources
