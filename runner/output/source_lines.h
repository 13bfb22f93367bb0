// File and line of kernel addresses, from DWARF (--symbolize, `skbtrail
// symbolize`). The work is LLVM's, in the LLVM plugin (runner/llvm/); this
// is what the rest of skbtrail sees of it.
#pragma once

#include <string>
#include <vector>

namespace skbtrail {

class SourceAnnotator {
 public:
  virtual ~SourceAnnotator() = default;
  // "tcp_v4_rcv+0x99" -> "tcp_v4_rcv+0x99 (net/ipv4/tcp_ipv4.c:2050, inlined
  // by ...)"; return_address: the address follows a call (look up off-1).
  virtual std::string annotate(const std::string& frame, bool return_address) = 0;
};

// skbtrail symbolize's options.
struct SymbolizeOptions {
  std::string vmlinux;
  std::string modules_dir;
  std::string release;
  bool exact = false;             // `-`: do not look up return addresses at off-1
  std::vector<std::string> args;  // frames, or "-" for text on stdin
};

}  // namespace skbtrail
