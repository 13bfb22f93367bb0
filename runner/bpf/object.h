// A compiled BPF program as data: what loading needs and nothing of the
// compiler. BCC compiles once (runner/llvm/compile.cpp); the object is then
// kept in the compile cache or a bundle and loaded by runner/bpf/loader.h,
// on this machine or another, without clang, LLVM or kernel headers.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace skbtrail {

struct BpfTableSpec {
  std::string name;
  uint32_t type = 0;  // enum bpf_map_type
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  uint32_t max_entries = 0;  // perf event arrays get the loading machine's CPU count instead
  uint32_t flags = 0;
};

// A map reference inside a function: the 16-byte BPF_LD_IMM64 at
// instruction `insn` (src_reg = BPF_PSEUDO_MAP_FD) whose imm is the fd of
// table `table` once the maps exist.
struct BpfRelocation {
  uint32_t insn = 0;
  uint32_t table = 0;
};

// A filter value bound at load time (runner/bpf/filter.h, LateConstant):
// the instruction at `insn` holds `placeholder` in its immediate.
struct BpfConstantUse {
  uint32_t insn = 0;
  uint32_t placeholder = 0;
};

struct BpfFunction {
  std::string name;
  std::vector<uint8_t> insns;  // 8 bytes per slot; map fds zeroed
  std::vector<BpfRelocation> relocations;
  std::vector<BpfConstantUse> constants;
};

struct BpfObject {
  std::string license = "GPL";
  uint32_t kern_version = 0;  // what kprobes on kernels before 5.0 must match
  std::vector<BpfFunction> functions;
  std::vector<BpfTableSpec> tables;

  const BpfFunction* function(std::string_view name) const;
  const BpfTableSpec* table(std::string_view name) const;
};

// A file holding one object and what it is for (`meta`: the cache key's
// parts, or a bundle's target and options). Written with a checksum; a
// file that is truncated or altered is refused when read.
struct ObjectFile {
  std::map<std::string, std::string> meta;
  BpfObject object;
};

std::string serialize_object_file(const ObjectFile& file);
// The file around an object's payload: magic, format version, the payload
// and its checksum (what serialize_object_file writes around its payload;
// the fuzzer frames its inputs with it to reach the payload's parser).
std::string frame_object_payload(std::string_view payload);
// Throws std::runtime_error saying what is wrong (not an object file, another
// format version, truncated, checksum mismatch).
ObjectFile parse_object_file(std::string_view bytes);

// Where BPF_LD_IMM64 map-fd loads sit in instructions: (slot, fd) pairs.
std::vector<std::pair<uint32_t, int32_t>> map_fd_loads(std::span<const uint8_t> insns);

// The instructions whose immediate operand is `value` (compares, moves and
// ALU with a constant, plain 64-bit constants): where a placeholder was
// compiled in.
std::vector<uint32_t> immediate_uses(std::span<const uint8_t> insns, uint32_t value);

// Records, in every function, where each placeholder sits. Throws
// std::runtime_error naming a placeholder the compiled code does not hold as
// an immediate (the compiler folded it away: it cannot be bound late).
void find_constant_uses(BpfObject& object, const std::vector<uint32_t>& placeholders);

}  // namespace skbtrail
