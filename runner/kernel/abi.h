// Every version-dependent kernel fact skbtrail relies on, in one place: what
// BPF can do from which version (for kernels that are not running, where
// nothing can be probed: runner/kernel/bpf_features.h probes the running
// one), and where the arguments we read sit in the functions we probe. Each
// answer names the kernel change behind it.
//
// The answers become -D flags for the BPF programs; the BPF side reads them
// in one header, programs/skbtrail_abi.bpf.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace skbtrail::abi {

// A kernel as its ABI is decided: the version, and for Red Hat's kernels
// the RHEL major release, whose backports make RHEL 7's "3.10" look like a
// 4.x kernel in the parts below (its version.h defines RHEL_MAJOR).
struct Kernel {
  uint32_t version = 0;  // 0: unknown, counts as new enough everywhere
  int rhel_major = 0;
  // RHEL 7.6+: 3.10 with BPF, kprobes, tracepoints, stack maps, LRU maps,
  // bpf_probe_read_str and struct nf_hook_state backported, but no raw
  // tracepoints, no tcp:* tracepoints and no drop reasons.
  bool is_rhel7() const { return rhel_major == 7 && version != 0 && version < (4u << 16); }
};

// What BPF offers, by version (kernels that are not running).
// bpf_get_stackid() and BPF_MAP_TYPE_STACK_TRACE: 4.6 (d5a3b1f69186).
bool has_stack_maps(const Kernel& kernel);
// BPF programs on tracepoints: 4.7 (98b5c2c65c29).
bool has_bpf_tracepoints(const Kernel& kernel);
// BPF_PROG_TYPE_RAW_TRACEPOINT: 4.17 (c4f6699dfcb8).
bool has_raw_tracepoints(const Kernel& kernel);
// kprobe programs: 4.1 in mainline (2541517c32be).
bool has_bpf_kprobes(const Kernel& kernel);
// BPF_MAP_TYPE_PERCPU_ARRAY: 4.6 (a10423b87a7e).
bool has_percpu_arrays(const Kernel& kernel);
// BPF_MAP_TYPE_LRU_HASH: 4.10 (29ba732acbee).
bool has_lru_hash(const Kernel& kernel);
// bpf_probe_read_str(): 4.11 (a5e8c07059d0).
bool has_probe_read_str(const Kernel& kernel);
// bpf_probe_read_kernel() and _str(): 5.5 (6ae08ae3dea2).
bool has_probe_read_kernel(const Kernel& kernel);
// Helpers may read map values as memory (ARG_PTR_TO_MEM, so
// perf_event_output can send a map value): 4.11 (39f19ebbf57b "bpf: rename
// ARG_PTR_TO_STACK"). Before, the verifier wants a pointer to the stack.
bool helpers_take_map_values(const Kernel& kernel);

// What the kernel's functions and tracepoints look like.
// skb:kfree_skb's `reason` field: 5.17 (c504e5c2f964).
bool has_drop_reason(const Kernel& kernel);
// tcp:tcp_send_reset / tcp:tcp_receive_reset: 4.15 (c24b14c46bb8, 5941521c2c5f).
bool has_tcp_reset_tracepoints(const Kernel& kernel);
// enum sk_rst_reason: an argument of tcp_v{4,6}_send_reset and
// tcp_send_active_reset, and a field of tcp:tcp_send_reset, from 6.10.
bool has_rst_reason(const Kernel& kernel);
// nf_ct_l4proto_log_invalid: 4.14 ("netfilter: add and use nf_l4proto_log_invalid");
// not in 4.9 nor RHEL 7.
bool has_ct_log_invalid(const Kernel& kernel);

// -D flags giving a program the argument layout of a probed function on
// `kernel`; each function comments the signatures it chooses between.
std::vector<std::string> nf_hook_slow_cflags(const Kernel& kernel);
std::vector<std::string> ipt_do_table_cflags(const Kernel& kernel);
std::vector<std::string> nft_do_chain_cflags(const Kernel& kernel);
// Whether nft_do_chain's family is the table's (inet, bridge, ...; 4.16+) or
// only the hook's (ipv4 for an inet table's packet) on this kernel.
bool nft_family_is_the_tables(const Kernel& kernel);
std::vector<std::string> nf_send_reset_cflags(const Kernel& kernel);  // nf_send_reset and nf_send_reset6
std::vector<std::string> ct_log_invalid_cflags(const Kernel& kernel);
// active_reset_arity: how many arguments tcp_send_active_reset takes, when
// the kernel's prototype says (nullopt: by version).
std::vector<std::string> rst_reason_cflags(const Kernel& kernel, std::optional<int> active_reset_arity);

// Kernel headers newer than the uapi bpf.h BCC force-includes (its own
// copy, which hides the tree's) size BPF types BCC's copy lacks: -D flags
// asking programs/skbtrail_skb.bpf.h to declare them, as the tree's uapi
// does. Only for compiles against real headers (a BTF tree has them all).
std::vector<std::string> bcc_uapi_cflags(const Kernel& kernel);

// The format text of a tracepoint as a kernel of `version` has it, for
// compiling against a kernel that is not running (only the fields the
// programs read). Empty when the kernel has no such tracepoint.
std::string assumed_tracepoint_format(const Kernel& kernel, const std::string& category, const std::string& event);

}  // namespace skbtrail::abi
