// Every JSON key skbtrail writes is documented in docs/json.md, and every
// key documented there is written by some record: each record type is
// emitted with every optional part, parsed, and its keys compared with the
// section of the document that describes it.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "runner/bpf/stats.h"
#include "runner/kernel/kallsyms.h"
#include "runner/output/output.h"
#include "runner/session/loss_ledger.h"
#include "runner/tools/drop/drop_record.h"
#include "runner/tools/exec/exec_record.h"
#include "runner/tools/rst/rst_record.h"
#include "runner/tools/trace/trace_record.h"

namespace skbtrail {
namespace {

// Section name ("drop (drop)", "summary (rst)", "packet") -> documented keys.
std::map<std::string, std::set<std::string>> documented_keys() {
  std::ifstream in(std::string(SKBTRAIL_SOURCE_DIR) + "/docs/json.md");
  EXPECT_TRUE(in) << "docs/json.md is missing";
  std::map<std::string, std::set<std::string>> sections;
  std::string section;
  static const std::regex heading(R"(^## `([a-z_]+)`(?: \((.*)\))?)");
  static const std::regex row(R"(^\| `([a-z_.\[\]]+)` \|)");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, heading)) {
      section = m[2].matched ? m[1].str() + " (" + m[2].str() + ")" : m[1].str();
      sections[section];
    } else if (!section.empty() && std::regex_search(line, m, row)) {
      sections[section].insert(m[1]);
    } else if (!section.empty() && line.find("Carries the packet fields") != std::string::npos) {
      sections[section].insert("@packet");
    }
  }
  return sections;
}

// "diag.rule", "stack[]", "by_cause[].count": every key path of an object.
void flatten(const nlohmann::json& j, const std::string& prefix, std::set<std::string>& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string key = prefix + it.key();
    out.insert(key);
    if (it->is_object()) flatten(*it, key + ".", out);
    if (it->is_array())
      for (const auto& element : *it)
        if (element.is_object()) flatten(element, key + "[].", out);
  }
}

class JsonSchema : public ::testing::Test {
 protected:
  void SetUp() override {
    std::istringstream in("ffffffff81000000 T tcp_v4_rcv\n");
    kallsyms_ = Kallsyms::parse(in);
    docs_ = documented_keys();
    ASSERT_TRUE(docs_.count("packet"));
  }

  // Emits record, checks its keys against the section, remembers them.
  template <typename Record>
  void emit(const std::string& section, const Record& record) {
    Output out(true, MonotonicToWall(0));
    out.write(record);
    const std::string line = out.take();
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "one object per line: " << line;
    const auto j = nlohmann::json::parse(line);  // throws on invalid JSON
    ASSERT_TRUE(docs_.count(section)) << "docs/json.md has no section for " << section;
    std::set<std::string> allowed = docs_[section];
    if (allowed.count("@packet")) allowed.insert(docs_["packet"].begin(), docs_["packet"].end());
    std::set<std::string> keys;
    flatten(j, "", keys);
    for (const auto& key : keys) {
      EXPECT_TRUE(allowed.count(key)) << section << ": key '" << key << "' is not in docs/json.md\n" << line;
      seen_[section].insert(key);
      if (docs_["packet"].count(key)) seen_["packet"].insert(key);
    }
    EXPECT_EQ(j.at("type"), section.substr(0, section.find(' '))) << line;
  }

  static skbtrail_packet tcp() {
    skbtrail_packet p{};
    p.l3_proto = 0x0800;
    p.l4_proto = 6;
    ::inet_pton(AF_INET, "10.0.0.1", &p.saddr[0]);
    ::inet_pton(AF_INET, "10.0.0.2", &p.daddr[0]);
    p.sport = htons(40000);
    p.dport = htons(80);
    p.tcp_flags = 0x02;
    return p;
  }
  static skbtrail_packet icmp() {
    skbtrail_packet p = tcp();
    p.l4_proto = 1;
    p.icmp_type = 8;
    return p;
  }

  Kallsyms kallsyms_;
  std::map<std::string, std::set<std::string>> docs_;
  std::map<std::string, std::set<std::string>> seen_;
};

TEST_F(JsonSchema, EveryKeyWrittenIsDocumentedAndEveryDocumentedKeyIsWritten) {
  const AddressNamer names(kallsyms_);
  const uint64_t frames[] = {0xffffffff81000010, 0xffffffff81000020};
  const StackView stack{&names, frames};

  skbtrail_drop_event drop{};
  drop.pkt = tcp();
  std::strcpy(drop.comm, "nc");
  const DropDiagnosis diagnosis{"no-socket", "warn", "nothing listens", "start it"};
  emit("drop (drop)", DropRecord{&drop, true, "NO_SOCKET", "", "tcp_v4_rcv+0x10", &diagnosis, stack});
  netfilter::Blame blame;
  blame.certainty = netfilter::Certainty::Policy;
  blame.note = "no rule matched";
  blame.rules.push_back({});
  blame.chains.push_back({});
  emit("drop (drop)", DropRecord{&drop, true, "NETFILTER_DROP", "", "nft_do_chain+0x10", nullptr, {}, &blame});
  drop.pkt = icmp();
  emit("drop (drop)", DropRecord{&drop, false, "", "NO_SOCKET", "tcp_v4_rcv+0x10", nullptr, {}});
  DropSummaryRecord drop_summary;
  drop_summary.by_reason_location.push_back({"NO_SOCKET", "tcp_v4_rcv+0x10", 2});
  emit("summary (drop)", drop_summary);

  skbtrail_rst_event rst{};
  rst.pkt = tcp();
  rst.segment_flags = 0x02;
  rst.has_reason = 1;
  const RstConntrack conntrack{"SEQ is over upper bound", "a -> b", "b -> a", "dnat"};
  emit("rst (rst)", RstRecord{&rst, false, "tcp_v4_send_reset", "TCP_CLOSE", "NO_SOCKET", "tcp_v4_rcv", &conntrack,
                              "no-listener", "warn", "nothing listens", "evidence", "advice", stack, false});
  RstSummaryRecord rst_summary;
  rst_summary.by_cause.push_back({"no-listener", "warn", 1});
  emit("summary (rst)", rst_summary);

  skbtrail_trace_event trace{};
  trace.pkt = tcp();
  trace.kind = SKBTRAIL_TRACE_DROP;
  trace.skb_lost = 2;
  emit("trace (trace)", TraceRecord{&trace, "kfree_skb", "drop", "kfree_skb at x", "tcp_v4_rcv+0x10", "", false,
                                    TraceClock::TimeOfDay, stack});

  emit("keep_table (trace)", KeepTableRecord{10240, 10240, 20000, 5000, 4760, 0});
  emit("lost (every tracing command)", LostRecord{1, 7});
  LossSummary loss;
  loss.cpus.push_back({1, 10, 7, 3, 3, 3});
  loss.slots.push_back({"skb:kfree_skb", 10, 3});
  emit("loss (every tracing command)", loss);
  const uint8_t bytes[] = {1, 2, 3};
  emit("sample (exec)", ExecSampleRecord{"events", bytes});
  emit("bpf_stats (every tracing command)", BpfProgramStats{"skbtrail_drop", 10, 1000});

  // The other direction: nothing documented that no record writes.
  for (const auto& [section, keys] : docs_) {
    for (const auto& key : keys) {
      if (key == "@packet") continue;
      EXPECT_TRUE(seen_[section].count(key)) << "docs/json.md lists '" << key << "' under " << section
                                            << " but no record writes it";
    }
  }
}

}  // namespace
}  // namespace skbtrail
