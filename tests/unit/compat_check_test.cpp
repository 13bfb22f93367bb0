// The compat lint's pieces on hand-assembled bytecode and small tables.
#include "runner/tools/check/check.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "runner/common/errors.h"
#include "runner/kernel/kernel_info.h"

namespace skbtrail {
namespace {

// One instruction in the kernel's encoding: code, dst/src nibbles, off, imm.
void emit(std::vector<uint8_t>& out, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  uint8_t insn[8] = {code, static_cast<uint8_t>(dst | (src << 4))};
  std::memcpy(insn + 2, &off, 2);
  std::memcpy(insn + 4, &imm, 4);
  out.insert(out.end(), insn, insn + 8);
}

TEST(CompatCheck, ReadsHelpersCallsLoopsGlobalsAndStack) {
  std::vector<uint8_t> code;
  emit(code, 0xbf, 1, 10, 0, 0);     // r1 = r10
  emit(code, 0x07, 1, 0, 0, -200);   // r1 += -200
  emit(code, 0x7b, 10, 1, -8, 0);    // *(u64 *)(r10 - 8) = r1
  emit(code, 0x85, 0, 0, 0, 4);      // call bpf_probe_read
  emit(code, 0x85, 0, 0, 0, 25);     // call bpf_perf_event_output
  emit(code, 0xb7, 0, 0, 0, 0);      // r0 = 0
  emit(code, 0x95, 0, 0, 0, 0);      // exit
  auto f = analyze_bytecode(code);
  EXPECT_EQ(f.instructions, 7u);
  EXPECT_EQ(f.helpers, (std::set<int32_t>{4, 25}));
  EXPECT_FALSE(f.bpf_to_bpf_calls || f.backward_jumps || f.global_data || f.jmp32);
  EXPECT_EQ(f.stack_bytes, 8);  // r1 was a pointer into the stack but nothing went through it yet

  emit(code, 0x7b, 1, 2, 16, 0);     // *(u64 *)(r1 + 16) = r2: r1 still = r10 - 200? no: the calls clobbered it
  f = analyze_bytecode(code);
  EXPECT_EQ(f.stack_bytes, 8);
  std::vector<uint8_t> deep;
  emit(deep, 0xbf, 3, 10, 0, 0);     // r3 = r10
  emit(deep, 0x07, 3, 0, 0, -480);   // r3 += -480
  emit(deep, 0x62, 3, 0, -40, 7);    // *(u32 *)(r3 - 40) = 7: 520 bytes down
  emit(deep, 0x85, 0, 1, 0, 3);      // a bpf-to-bpf call
  emit(deep, 0x18, 1, 2, 0, 0);      // r1 = map value (global data), 16 bytes
  emit(deep, 0x00, 0, 0, 0, 0);
  emit(deep, 0x16, 1, 0, -3, 0);     // jmp32: if w1 == 0 goto -3 (a loop)
  f = analyze_bytecode(deep);
  EXPECT_EQ(f.instructions, 7u);
  EXPECT_EQ(f.stack_bytes, 520);
  EXPECT_TRUE(f.bpf_to_bpf_calls);
  EXPECT_TRUE(f.global_data);
  EXPECT_TRUE(f.jmp32);
  EXPECT_TRUE(f.backward_jumps);
  EXPECT_TRUE(f.helpers.empty());
}

TEST(CompatCheck, NamesFromTheUapiHeader) {
  EXPECT_EQ(helper_name(1), "map_lookup_elem");
  EXPECT_EQ(helper_name(4), "probe_read");
  EXPECT_EQ(helper_name(27), "get_stackid");
  EXPECT_EQ(helper_name(113), "probe_read_kernel");
  EXPECT_EQ(helper_name(100000), "helper#100000");
  EXPECT_EQ(map_type_name(4), "perf_event_array");
  EXPECT_EQ(map_type_name(9), "lru_hash");
}

TEST(CompatCheck, VersionsAndTargets) {
  EXPECT_EQ(parse_kernel_version("4.9"), kernel_version(4, 9, 0));
  EXPECT_EQ(parse_kernel_version("4.19.0"), kernel_version(4, 19, 0));
  EXPECT_FALSE(parse_kernel_version("4"));
  EXPECT_FALSE(parse_kernel_version("4.9x"));
  EXPECT_FALSE(parse_kernel_version("v4.9"));
  EXPECT_EQ(version_text(kernel_version(5, 4, 0)), "5.4");
  EXPECT_EQ(parse_compat_target("3.10").backport, "rhel7");
  EXPECT_EQ(parse_compat_target("4.14").backport, "");
  EXPECT_THROW(parse_compat_target("3.18"), UsageError);
  EXPECT_THROW(parse_compat_target("x"), UsageError);
}

// `check --kernel 4.9` lints 4.9's helpers and limits but compiles against
// this host's headers: struct field reads must follow the host's layout
// (nft_pktinfo lost pf/hook in 4.10 and xt in 5.14), or a 6.x host's
// headers reject the 4.9 field names.
TEST(CompatCheck, TargetKeepsTheHostsStructLayouts) {
  KernelInfo host_kernel;
  host_kernel.version_code = kernel_version(6, 1, 0);
  const KernelFacts host = KernelFacts::assumed(host_kernel, HeaderChoice{});
  const CompatTable& table = CompatTable::bundled();
  for (const char* target : {"3.10", "4.9", "5.4"}) {
    const KernelFacts facts = target_facts(parse_compat_target(target), host, table);
    EXPECT_EQ(facts.struct_layouts().version, kernel_version(6, 1, 0)) << target;
    EXPECT_EQ(facts.struct_layouts().rhel_major, 0) << target;
    EXPECT_NE(facts.abi().version, kernel_version(6, 1, 0)) << target;
  }
  EXPECT_EQ(target_facts(parse_compat_target("3.10"), host, table).abi().rhel_major, 7);
  // A kernel described by itself (a header tree, or the running one) uses
  // its own layouts.
  KernelInfo old_kernel;
  old_kernel.version_code = kernel_version(4, 9, 0);
  EXPECT_EQ(KernelFacts::assumed(old_kernel, HeaderChoice{}).struct_layouts().version, kernel_version(4, 9, 0));
}

TEST(CompatCheck, TableParsesAndNamesBadLines) {
  const auto t = CompatTable::parse(
      "helper probe_read 4.1\nmap lru_hash 4.10\nprog kprobe 4.1\nfeature bounded-loops 5.3\n"
      "limit insns 3.15 4096\nlimit insns 5.2 1000000\nbackport rhel7 3.10 helper probe_read\n",
      "t.data");
  EXPECT_EQ(t.helper_since("probe_read"), kernel_version(4, 1, 0));
  EXPECT_FALSE(t.helper_since("probe_read_kernel"));
  EXPECT_EQ(t.instruction_limit(kernel_version(4, 19, 0)), 4096u);
  EXPECT_EQ(t.instruction_limit(kernel_version(5, 4, 0)), 1000000u);
  ASSERT_NE(t.backport("rhel7"), nullptr);
  EXPECT_TRUE(t.backport("rhel7")->helpers.contains("probe_read"));
  try {
    CompatTable::parse("limit insns 3.15 4096\nhelper probe_read four\n", "t.data");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "t.data:2: 'four' is not a kernel version (X.Y)");
  }
  EXPECT_THROW(CompatTable::parse("bogus line\n", "t.data"), UsageError);
  // The bundled table parses and knows what the bundled programs call.
  const auto& bundled = CompatTable::bundled();
  for (const char* helper : {"probe_read", "perf_event_output", "get_stackid", "probe_read_kernel"})
    EXPECT_TRUE(bundled.helper_since(helper)) << helper;
}

TEST(CompatCheck, ProblemsNameWhatAndWhere) {
  const auto& table = CompatTable::bundled();
  CheckedFunction fn{"skbtrail_x", "kprobe", {}};
  fn.facts.instructions = 300;
  fn.facts.helpers = {4, 25, 27};  // probe_read, perf_event_output, get_stackid
  EXPECT_TRUE(compat_problems(fn, parse_compat_target("4.9"), table).empty());
  const auto on44 = compat_problems(fn, parse_compat_target("4.4"), table);
  ASSERT_EQ(on44.size(), 1u);
  EXPECT_EQ(on44[0], "helper bpf_get_stackid (27) needs 4.6, not on 4.4");
  fn.facts.helpers = {113};  // probe_read_kernel
  fn.facts.backward_jumps = true;
  fn.facts.instructions = 5000;
  fn.prog_type = "tracepoint";
  const auto on419 = compat_problems(fn, parse_compat_target("4.19"), table);
  EXPECT_EQ(on419.size(), 3u);
  EXPECT_TRUE(compat_problems(fn, parse_compat_target("5.10"), table).empty());
  const auto rhel = compat_problems(fn, parse_compat_target("3.10"), table);
  EXPECT_NE(std::find(rhel.begin(), rhel.end(), "helper bpf_probe_read_kernel (113) is not in the rhel7 backport"),
            rhel.end());
  EXPECT_EQ(map_problems({"lru_hash"}, parse_compat_target("4.9"), table),
            std::vector<std::string>{"map type lru_hash needs 4.10, not on 4.9"});
  EXPECT_TRUE(map_problems({"lru_hash", "perf_event_array"}, parse_compat_target("4.14"), table).empty());
}

}  // namespace
}  // namespace skbtrail
