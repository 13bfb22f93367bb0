#include "resources/bundled.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <stdexcept>

#include "programs/skbtrail_events.h"

namespace skbtrail::resources {
namespace {

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(Programs, DropProgramIsBundledWithItsHeadersInlinedOnce) {
  const std::string text = expand_program("drop.bpf.c");
  EXPECT_NE(text.find("int skbtrail_tp_kfree_skb(struct skbtrail_tp_skb_kfree_skb *args)"), std::string::npos);
  EXPECT_EQ(text.find("#include \""), std::string::npos) << "a local include was left for BCC";
  // skbtrail_events.h is included by both drop.bpf.c's header and the helper: once is enough.
  EXPECT_EQ(count(text, "struct skbtrail_drop_event {"), 1u);
  EXPECT_EQ(count(text, "#define SKBTRAIL_EVENTS_H"), 1u);
  // Kernel includes stay for BCC and are guarded for BTF mode.
  const size_t include = text.find("#include <linux/skbuff.h>");
  ASSERT_NE(include, std::string::npos);
  const size_t guard = text.rfind("#ifndef SKBTRAIL_BTF", include);
  ASSERT_NE(guard, std::string::npos);
  // Only the declarations for kernels newer than BCC's uapi sit between.
  EXPECT_EQ(text.substr(guard, include - guard).find("#include"), std::string::npos);
}

TEST(Programs, UnknownFileIsNamed) {
  try {
    expand_program("nope.bpf.c");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("nope.bpf.c"), std::string::npos);
  }
}

// The layout the BPF side produces (clang, target bpf) must match ours;
// these offsets are what both ABIs give for the field order chosen.
TEST(Programs, EventLayoutHasNoHiddenPadding) {
  EXPECT_EQ(sizeof(skbtrail_packet), 56u);
  EXPECT_EQ(offsetof(skbtrail_packet, l3_proto), 40u);
  EXPECT_EQ(offsetof(skbtrail_packet, l4_proto), 50u);
  // The session reads every event's sequence number at one offset.
  EXPECT_EQ(offsetof(skbtrail_drop_event, seq), SKBTRAIL_EVENT_SEQ_OFFSET);
  EXPECT_EQ(offsetof(skbtrail_rst_event, seq), SKBTRAIL_EVENT_SEQ_OFFSET);
  EXPECT_EQ(offsetof(skbtrail_trace_event, seq), SKBTRAIL_EVENT_SEQ_OFFSET);
  EXPECT_EQ(offsetof(skbtrail_drop_event, pid), 32u);
  EXPECT_EQ(offsetof(skbtrail_drop_event, comm), 56u);
  EXPECT_EQ(offsetof(skbtrail_drop_event, nf_valid), 88u);
  EXPECT_EQ(offsetof(skbtrail_drop_event, pkt), 92u);
  EXPECT_EQ(sizeof(skbtrail_drop_event), 152u);
  EXPECT_EQ(offsetof(skbtrail_trace_event, skb_lost), 56u);
  EXPECT_EQ(offsetof(skbtrail_trace_event, probe_id), 64u);
  EXPECT_EQ(sizeof(skbtrail_trace_event), 232u);
  EXPECT_EQ(sizeof(skbtrail_rst_event), 296u);
  EXPECT_EQ(offsetof(skbtrail_rst_event, pkt), 96u);
  EXPECT_EQ(offsetof(skbtrail_rst_event, ct), 152u);
  EXPECT_EQ(offsetof(skbtrail_ct_invalid, message), 80u);
}

}  // namespace
}  // namespace skbtrail::resources
