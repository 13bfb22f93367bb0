// What a command compiles and attaches on one kernel: its plan. Tools build
// plans from KernelFacts and their options (runner/tools/tool.h); the
// session runs them; doctor and check read the same plans.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "runner/bpf/filter.h"
#include "runner/bpf/object.h"
#include "runner/bpf/probes.h"
#include "runner/kernel/facts.h"

namespace skbtrail {

struct Plan {
  std::string command;  // "drop"
  std::string program;  // "drop.bpf.c": names the program in messages
  std::string label;    // this configuration, for check: "drop.bpf.c --diag --stack"
  std::string source;   // the whole text BCC compiles
  std::vector<std::string> cflags;  // -D flags beyond the header ones
  std::vector<ProbeSpec> probes;    // in attach order, each with its fallbacks
  std::vector<std::string> perf_tables;  // BPF_PERF_OUTPUT tables events arrive on
  std::string stack_table;               // BPF_STACK_TRACE table; "" when none
  // Exact loss accounting (programs/skbtrail_output.bpf.h): what sends on
  // each output slot ("skb:kfree_skb", a hop's name); empty when the
  // program does not count (exec's programs, kernels without per-CPU arrays).
  std::vector<std::string> output_slots;
  // What this kernel cannot do for the command, and why: said once at
  // start, listed by doctor ("tcp_drop" -> "inlined on 4.19").
  MissingProbes limits;
  // Handlers compiled in that no probe of this kernel uses (check skips them).
  std::set<std::string> never_loaded;
  // The tracepoint layouts compiled in, by "skb:kfree_skb": a program run
  // on another kernel (a bundle) must find the same layout there.
  struct TracepointUse {
    std::vector<std::string> fields;  // what the program reads
    std::string format;               // the format text the layout came from
    std::string layout;               // the struct text compiled in
  };
  std::map<std::string, TracepointUse> tracepoints;
  // Filter values the loader writes in (pid, netns): not part of what is
  // compiled, so they do not make another program.
  std::vector<LateConstant> constants;
};

// A plan for `program` (programs/NAME) of `command` on this kernel: the
// program's text and the ABI flags every program gets (facts.abi_cflags()).
// Commands add their probes and flags.
Plan start_plan(const KernelFacts& facts, std::string command, std::string program);

// Names the program's output slots for loss accounting, where the kernel
// can count (per-CPU arrays); the program must have at least that many.
void count_output_slots(Plan& plan, const KernelFacts& facts, std::vector<std::string> slots);

// Why a plan cannot have kernel stacks here, for Plan::limits.
std::string no_stack_maps_reason(const KernelFacts& facts);

// Compiles the plan with BCC and records where its late-bound constants sit.
BpfObject compile_plan(const Plan& plan, const HeaderChoice& headers);

// Puts the struct a handler reads tracepoint CATEGORY:EVENT through,
// `struct skbtrail_tp_CATEGORY_EVENT` with `fields` (those this kernel has),
// ahead of the program text. Nothing when the kernel has no such tracepoint.
void add_tracepoint_struct(Plan& plan, const KernelFacts& facts, const std::string& category, const std::string& event,
                           const std::vector<std::string>& fields);

std::string tracepoint_struct_name(const std::string& category, const std::string& event);

// What identifies a plan's program: a hash of its text and flags.
std::string plan_fingerprint(const Plan& plan);

}  // namespace skbtrail
