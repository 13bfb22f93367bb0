// A bundled BPF program compiled by BCC for this kernel. Destroying it
// detaches every probe (BCC's destructor does that; detaching all by hand
// ourselves double-frees in BCC 0.26).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "runner/kernel/headers.h"

namespace ebpf {
class BPF;
}

namespace skbtrail {

struct CompileRequest {
  std::string program;  // bundled file name, e.g. "drop.bpf.c", or a user file's name
  std::vector<std::string> cflags;
  HeaderChoice headers;
  std::string source;  // the program text when it is not bundled (skbtrail exec)
};

class BpfProgram {
 public:
  // Throws std::runtime_error carrying BCC's (noise-filtered) diagnostics.
  explicit BpfProgram(const CompileRequest& request);
  ~BpfProgram();
  BpfProgram(const BpfProgram&) = delete;
  BpfProgram& operator=(const BpfProgram&) = delete;

  ebpf::BPF& bpf() { return *bpf_; }
  int table_fd(const std::string& name);  // throws when the program has no such table

 private:
  std::unique_ptr<ebpf::BPF> bpf_;
};

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

// A program compiled by BCC but not loaded: its functions' instructions and
// its tables, for reading the bytecode back (skbtrail check). Creating the
// maps still needs bpf() (BCC creates them while compiling).
struct CompiledFunction {
  std::string name;
  std::vector<uint8_t> bytes;  // 8 bytes per instruction slot
};
struct CompiledTable {
  std::string name;
  int type = 0;  // enum bpf_map_type
};
struct CompiledModule {
  std::vector<CompiledFunction> functions;
  std::vector<CompiledTable> tables;
};
// Throws std::runtime_error carrying BCC's diagnostics.
CompiledModule compile_module(const CompileRequest& request);

// The -D flags every program gets for the chosen headers.
std::vector<std::string> header_cflags(const HeaderChoice& headers);

// Drops libbcc's harmless noise on machines without AF_ALG ("sha1 socket not
// available", "cannot get prog tag") from captured stderr text.
std::string filter_bcc_noise(const std::string& text);

}  // namespace skbtrail
