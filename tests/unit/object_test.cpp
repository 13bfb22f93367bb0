// Compiled objects as files (the compile cache and bundles): what is written
// reads back the same, and a damaged file is refused, never half-trusted.
#include "runner/bpf/object.h"
#include "runner/session/bundle.h"
#include "runner/tools/rst/rst.h"

#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>

namespace skbtrail {
namespace {

std::vector<uint8_t> insn(uint8_t code, uint8_t regs, int32_t imm) {
  std::vector<uint8_t> out(8, 0);
  out[0] = code;
  out[1] = regs;
  std::memcpy(out.data() + 4, &imm, 4);
  return out;
}

ObjectFile sample() {
  ObjectFile f;
  f.meta = {{"key", "skbtrail 0.1.0\nprogram drop.bpf.c\n"}, {"kind", "test"}};
  f.object.kern_version = 0x060100;
  f.object.tables = {{"drop_events", 4, 4, 4, 2, 0}, {"drop_stacks", 7, 4, 1016, 4096, 0}};
  BpfFunction fn;
  fn.name = "skbtrail_tp_kfree_skb";
  for (const auto& part : {insn(0x18, 0x11, 0), insn(0, 0, 0), insn(0xb7, 0x00, 7), insn(0x95, 0, 0)})
    fn.insns.insert(fn.insns.end(), part.begin(), part.end());
  fn.relocations = {{0, 1}};
  f.object.functions.push_back(fn);
  return f;
}

TEST(ObjectFile, RoundTrip) {
  const ObjectFile back = parse_object_file(serialize_object_file(sample()));
  EXPECT_EQ(back.meta, sample().meta);
  EXPECT_EQ(back.object.kern_version, 0x060100u);
  ASSERT_EQ(back.object.tables.size(), 2u);
  EXPECT_EQ(back.object.tables[1].name, "drop_stacks");
  EXPECT_EQ(back.object.tables[1].value_size, 1016u);
  ASSERT_NE(back.object.function("skbtrail_tp_kfree_skb"), nullptr);
  EXPECT_EQ(back.object.function("skbtrail_tp_kfree_skb")->insns, sample().object.functions[0].insns);
  EXPECT_EQ(back.object.functions[0].relocations[0].table, 1u);
  EXPECT_EQ(back.object.table("drop_events")->max_entries, 2u);
}

std::string error_of(const std::string& bytes) {
  try {
    parse_object_file(bytes);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ObjectFile, DamageIsRefusedWithWhatIsWrong) {
  const std::string good = serialize_object_file(sample());
  EXPECT_EQ(error_of("hello"), "not a skbtrail object file");
  EXPECT_EQ(error_of(good.substr(0, good.size() / 2)), "truncated");
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x20;
  EXPECT_EQ(error_of(flipped), "checksum mismatch (the file is damaged)");
  std::string newer = good;
  newer[16] = 9;  // the format number after the magic
  EXPECT_EQ(error_of(newer), "object format 9 (this skbtrail reads format 2)");
  EXPECT_EQ(error_of(good + "x"), "trailing bytes after the checksum");
  // A map reference pointing past the function or at no table.
  ObjectFile bad = sample();
  bad.object.functions[0].relocations = {{3, 0}};
  EXPECT_NE(error_of(serialize_object_file(bad)).find("a map reference points outside it"), std::string::npos);
  bad.object.functions[0].relocations = {{0, 5}};
  EXPECT_NE(error_of(serialize_object_file(bad)).find("a map reference points outside it"), std::string::npos);
  // Found by the fuzzer: (insn + 2) * 8 wrapped in 32 bits and passed.
  bad.object.functions[0].relocations = {{0x20000000u - 2, 0}};
  EXPECT_NE(error_of(serialize_object_file(bad)).find("a map reference points outside it"), std::string::npos);
  // Found by the fuzzer: a name with a newline reached the error message.
  bad = sample();
  bad.object.functions[0].name = "f\nforged line";
  EXPECT_EQ(error_of(serialize_object_file(bad)),
            "a function name holds a space or a control character (the file is damaged)");
}

TEST(ObjectFile, LateConstantsAreFoundAsImmediates) {
  std::vector<uint8_t> code;
  for (const auto& part : {insn(0x18, 0x01, static_cast<int32_t>(0xf5ce7a02u)), insn(0, 0, 0),  // r1 = placeholder
                           insn(0x55, 0x02, static_cast<int32_t>(0xf5ce7a01u)),                 // if r2 != placeholder
                           insn(0x85, 0, static_cast<int32_t>(0xf5ce7a01u)),                    // a call: not an operand
                           insn(0x95, 0, 0)})
    code.insert(code.end(), part.begin(), part.end());
  EXPECT_EQ(immediate_uses(code, 0xf5ce7a02u), std::vector<uint32_t>{0});
  EXPECT_EQ(immediate_uses(code, 0xf5ce7a01u), std::vector<uint32_t>{2});
  BpfObject object;
  object.functions.push_back({"f", code, {}, {}});
  find_constant_uses(object, {0xf5ce7a01u, 0xf5ce7a02u});
  ASSERT_EQ(object.functions[0].constants.size(), 2u);
  EXPECT_THROW(find_constant_uses(object, {0x12345678u}), std::runtime_error);
  // Kept through a file.
  ObjectFile file;
  file.object = object;
  EXPECT_EQ(parse_object_file(serialize_object_file(file)).object.functions[0].constants.size(), 2u);
}

TEST(ObjectFile, MapLoadsAreFoundBySourceRegisterNotByValue) {
  std::vector<uint8_t> code;
  for (const auto& part : {insn(0x18, 0x11, 7), insn(0, 0, 0),       // r1 = map fd 7
                           insn(0x18, 0x02, 7), insn(0, 0, 0),       // r2 = 7: a constant, same value
                           insn(0xb7, 0x03, 7), insn(0x95, 0, 0)})
    code.insert(code.end(), part.begin(), part.end());
  const auto loads = map_fd_loads(code);
  ASSERT_EQ(loads.size(), 1u);
  EXPECT_EQ(loads[0].first, 0u);
  EXPECT_EQ(loads[0].second, 7);
}


// A bundle is planned again on its target from what it recorded: RHEL 7's
// backport must survive the trip, or its program is refused as another one.
TEST(Bundle, ItsKernelIsPlannedAgainTheSame) {
  KernelInfo el7;
  el7.release = "3.10.0-1160.el7.x86_64";
  el7.version_code = kernel_version(3, 10, 0);
  el7.rhel_major = 7;
  el7.has_kprobes = true;
  HeaderChoice headers;
  headers.mode = "foreign";
  const KernelFacts target = KernelFacts::assumed(el7, headers);
  const Plan plan = rst_plan(target, RstOptions{});
  const std::string path = ::testing::TempDir() + "/el7.bundle";
  write_bundle(path, plan, target, "filter none", sample().object);
  const Bundle back = read_bundle(path);
  EXPECT_EQ(back.target.rhel_major, 7);
  EXPECT_EQ(plan_fingerprint(rst_plan(bundle_facts(back), RstOptions{})), plan_fingerprint(plan));
}

}  // namespace
}  // namespace skbtrail
