// skbtrail trace: the path of matching packets through the stack, hop by
// hop, with netfilter verdicts, drops and stacks.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "programs/skbtrail_events.h"
#include "runner/filter.h"
#include "runner/packet_format.h"
#include "runner/probe_list.h"
#include "runner/session.h"
#include "runner/tracepoint_format.h"

namespace skbtrail {

class AddressNamer;

struct TraceOptions {
  RunOptions run;
  PacketFilter filter;
  std::optional<uint16_t> icmp_id;
  HopSelection hops;
  std::string probes_file;  // --probes @FILE: replaces the built-in list
  bool callstack = false;
  bool dropstack = false;
  bool keep = false;
  bool explain = false;
  bool date = false;          // -T
  bool boot_seconds = false;  // -t
  bool list_probes = false;
};


// -D flags for trace.bpf.c.
std::vector<std::string> trace_program_cflags(const TraceOptions& options, const TracePlan& plan,
                                              const KernelInfo& kernel, bool kfree_has_reason);
// The per-hop handlers appended to trace.bpf.c, and the probes to attach them.
std::string trace_handlers(const TracePlan& plan);
std::vector<ProbeSpec> trace_probe_specs(const TracePlan& plan);

bool decode_trace_event(std::span<const uint8_t> sample, skbtrail_trace_event& event);

class TraceReporter {
 public:
  TraceReporter(const TracePlan& plan, const AddressNamer& names, ValueNames drop_reasons, MonotonicToWall clock,
                const TraceOptions& options);
  void append_event(std::string& out, const skbtrail_trace_event& ev, std::span<const uint64_t> stack);
  void append_lost(std::string& out, int cpu, uint64_t count);
  uint64_t events() const { return events_; }

  // Pieces, for tests.
  static std::string packet_info(const skbtrail_packet& pkt);  // "T_SYN:1.2.3.4:5->6.7.8.9:80"
  static std::string netfilter_hook_name(uint8_t hook);        // "OUTPUT"
  static std::string netfilter_family_name(uint8_t pf);        // "ipv4"
  static std::string iptables_verdict_name(int verdict);       // "DROP"

 private:
  std::string hop_text(const skbtrail_trace_event& ev) const;

  const TracePlan& plan_;
  const AddressNamer& names_;
  ValueNames drop_reasons_;
  MonotonicToWall clock_;
  const TraceOptions& options_;
  uint64_t events_ = 0;
  uint64_t last_skb_ = 0;
};

int run_trace(const TraceOptions& options);

}  // namespace skbtrail
