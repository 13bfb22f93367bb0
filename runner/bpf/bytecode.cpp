#include "runner/bpf/bytecode.h"

#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace skbtrail {

namespace {

// Instruction encoding (include/uapi/linux/bpf_common.h, bpf.h): stable ABI.
constexpr uint8_t kClassMask = 0x07;
constexpr uint8_t kClassLd = 0x00, kClassLdx = 0x01, kClassSt = 0x02, kClassStx = 0x03, kClassJmp = 0x05,
                  kClassJmp32 = 0x06, kClassAlu64 = 0x07;
constexpr uint8_t kOpMask = 0xf0;
constexpr uint8_t kOpJa = 0x00, kOpCall = 0x80, kOpExit = 0x90, kOpMov = 0xb0, kOpAdd = 0x00;
constexpr uint8_t kSourceReg = 0x08;       // BPF_X
constexpr uint8_t kLoadImm64 = 0x18;       // BPF_LD | BPF_IMM | BPF_DW
constexpr uint8_t kPseudoCall = 1;         // src_reg of a bpf-to-bpf call
constexpr uint8_t kPseudoMapValue = 2;     // src_reg of a global-data load
constexpr uint8_t kPseudoMapIdxValue = 6;
constexpr int kFramePointer = 10;

struct Insn {
  uint8_t code;
  uint8_t dst;
  uint8_t src;
  int16_t off;
  int32_t imm;
};

Insn decode(const uint8_t* p) {
  Insn i{};
  i.code = p[0];
  i.dst = p[1] & 0x0f;
  i.src = p[1] >> 4;
  std::memcpy(&i.off, p + 2, 2);
  std::memcpy(&i.imm, p + 4, 4);
  return i;
}

// The mapper puts the commas itself: FN(unspec), FN(map_lookup_elem), ...
#define SKBTRAIL_HELPER_NAME(name, ...) #name
constexpr const char* kHelperNames[] = {__BPF_FUNC_MAPPER(SKBTRAIL_HELPER_NAME)};
#undef SKBTRAIL_HELPER_NAME

// Whether the control-flow graph has a cycle: what verifiers before 5.3
// reject ("back-edge from insn X to Y", check_cfg's depth-first search).
// A backward jump alone is no loop: clang puts cold blocks that end in exit
// after the code that jumps back to them.
bool has_cycle(std::span<const uint8_t> bytes) {
  const size_t count = bytes.size() / 8;
  // Successors of each instruction: fall-through and jump target.
  auto successors = [&](size_t n, size_t out[2]) -> int {
    const Insn i = decode(bytes.data() + n * 8);
    if (i.code == kLoadImm64) {
      out[0] = n + 2;
      return 1;
    }
    const uint8_t cls = i.code & kClassMask;
    if (cls != kClassJmp && cls != kClassJmp32) {
      out[0] = n + 1;
      return 1;
    }
    const uint8_t op = i.code & kOpMask;
    if (op == kOpExit) return 0;
    if (op == kOpCall) {
      out[0] = n + 1;
      return 1;
    }
    const size_t target = static_cast<size_t>(static_cast<int64_t>(n) + 1 + i.off);
    if (op == kOpJa && cls == kClassJmp) {
      out[0] = target;
      return 1;
    }
    out[0] = n + 1;
    out[1] = target;
    return 2;
  };
  enum : uint8_t { kUnseen, kOnPath, kDone };
  std::vector<uint8_t> state(count, kUnseen);
  std::vector<std::pair<size_t, int>> path;  // instruction, next successor to explore
  if (count == 0) return false;
  path.push_back({0, 0});
  state[0] = kOnPath;
  while (!path.empty()) {
    auto& [n, next] = path.back();
    size_t succ[2];
    const int k = successors(n, succ);
    if (next == k) {
      state[n] = kDone;
      path.pop_back();
      continue;
    }
    const size_t w = succ[next++];
    if (w >= count) continue;  // off the end: the verifier rejects that otherwise
    if (state[w] == kOnPath) return true;
    if (state[w] == kUnseen) {
      state[w] = kOnPath;
      path.push_back({w, 0});
    }
  }
  return false;
}

}  // namespace

BytecodeFacts analyze_bytecode(std::span<const uint8_t> bytes) {
  BytecodeFacts f;
  const size_t count = bytes.size() / 8;
  f.instructions = count;
  // Offsets from the frame pointer held in registers (r1 = r10; r1 += -16):
  // how BPF code addresses its stack for helper arguments.
  std::optional<int64_t> fp_offset[11];
  fp_offset[kFramePointer] = 0;
  int64_t deepest = 0;
  auto touch = [&](int reg, int16_t off) {
    if (reg >= 0 && reg <= kFramePointer && fp_offset[reg]) deepest = std::min<int64_t>(deepest, *fp_offset[reg] + off);
  };
  for (size_t n = 0; n < count; ++n) {
    const Insn i = decode(bytes.data() + n * 8);
    const uint8_t cls = i.code & kClassMask;
    if (i.code == kLoadImm64) {
      if (i.src == kPseudoMapValue || i.src == kPseudoMapIdxValue) f.global_data = true;
      if (i.dst < kFramePointer) fp_offset[i.dst].reset();
      ++n;  // the second half of the 16-byte instruction
      continue;
    }
    switch (cls) {
      case kClassJmp:
      case kClassJmp32: {
        if (cls == kClassJmp32) f.jmp32 = true;
        const uint8_t op = i.code & kOpMask;
        if (op == kOpCall) {
          if (i.src == kPseudoCall) f.bpf_to_bpf_calls = true;
          else if (i.src == 0) f.helpers.insert(i.imm);
          for (int r = 0; r <= 5; ++r) fp_offset[r].reset();  // caller-saved
        }
        break;
      }
      case kClassStx:
      case kClassSt: touch(i.dst, i.off); break;
      case kClassLdx:
        touch(i.src, i.off);
        if (i.dst < kFramePointer) fp_offset[i.dst].reset();
        break;
      case kClassLd: break;
      default: {  // ALU, ALU64: track r = r10 and r += imm, forget anything else
        if (i.dst >= kFramePointer) break;
        const uint8_t op = i.code & kOpMask;
        if (cls == kClassAlu64 && op == kOpMov && (i.code & kSourceReg) && i.src <= kFramePointer)
          fp_offset[i.dst] = fp_offset[i.src];
        else if (cls == kClassAlu64 && op == kOpAdd && !(i.code & kSourceReg) && fp_offset[i.dst])
          *fp_offset[i.dst] += i.imm;
        else
          fp_offset[i.dst].reset();
      }
    }
  }
  f.stack_bytes = static_cast<int>(-deepest);
  f.backward_jumps = has_cycle(bytes);
  return f;
}

std::string helper_name(int32_t id) {
  if (id >= 0 && static_cast<size_t>(id) < std::size(kHelperNames)) return kHelperNames[id];
  return fmt::format("helper#{}", id);
}

std::string map_type_name(int type) {
  if (const char* name = libbpf_bpf_map_type_str(static_cast<bpf_map_type>(type))) return name;
  return fmt::format("type {}", type);
}

}  // namespace skbtrail
