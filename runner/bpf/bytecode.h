// What compiled BPF instructions do, read back from the bytes: what the
// compat lint compares with what an older kernel's verifier accepts.
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <string>

namespace skbtrail {

// What one compiled BPF function does, read from its instructions.
struct BytecodeFacts {
  size_t instructions = 0;          // 8-byte slots (a 64-bit load counts twice, as for the verifier)
  std::set<int32_t> helpers;        // helper ids (enum bpf_func_id)
  bool bpf_to_bpf_calls = false;    // BPF_PSEUDO_CALL
  bool backward_jumps = false;      // a loop: a cycle in the control flow (verifiers before 5.3 reject it)
  bool global_data = false;         // BPF_PSEUDO_MAP_VALUE loads (.data/.rodata/.bss)
  bool jmp32 = false;               // BPF_JMP32 class instructions
  int stack_bytes = 0;              // deepest r10-relative access
};

BytecodeFacts analyze_bytecode(std::span<const uint8_t> bytes);

// Helper names by id, from the uapi header this binary was built with.
std::string helper_name(int32_t id);
std::string map_type_name(int type);  // libbpf's name ("perf_event_array"); "type N" when unknown

}  // namespace skbtrail
