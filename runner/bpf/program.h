// Compiling a program: what to compile and with which headers, and the
// capture of what libbcc prints on stderr. The compiler itself (BCC, LLVM)
// lives in a plugin loaded only when something must be compiled
// (runner/llvm/), so loading a cached or bundled program never maps it.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "runner/bpf/object.h"
#include "runner/kernel/headers.h"

namespace skbtrail {

struct CompileRequest {
  std::string program;  // its name in messages, e.g. "drop.bpf.c" or a user file's name
  std::vector<std::string> cflags;
  HeaderChoice headers;
  std::string source;  // the whole program text
};

// Compiles with BCC (through the LLVM plugin). Throws std::runtime_error
// carrying BCC's (noise-filtered) diagnostics.
BpfObject compile_program(const CompileRequest& request);

// Every flag the compiler gets: the headers' and the request's.
std::vector<std::string> compile_flags(const CompileRequest& request);

// Captures what libbcc writes to fd 2 (it prints from C code) during a
// compile or attach, so the noise can be filtered and errors reported once.
class StderrCapture {
 public:
  StderrCapture();
  ~StderrCapture();
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;
  std::string finish();  // restores fd 2; returns the text minus BCC noise

 private:
  void restore();
  FILE* file_ = nullptr;
  int saved_ = -1;
};

// The -D flags every program gets for the chosen headers.
std::vector<std::string> header_cflags(const HeaderChoice& headers);

// Drops libbcc's harmless noise on machines without AF_ALG ("sha1 socket not
// available", "cannot get prog tag") from captured stderr text.
std::string filter_bcc_noise(const std::string& text);

}  // namespace skbtrail
