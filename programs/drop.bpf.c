/* skbtrail drop: every skb the kernel drops, from the skb:kfree_skb
 * tracepoint (present on all kernels with eBPF; its `reason` field from 5.17).
 *
 * Runner -D flags besides the filter ones (see skbtrail_skb.bpf.h):
 *   SKBTRAIL_HAVE_DROP_REASON  the tracepoint has a `reason` field
 *   SKBTRAIL_WANT_STACK        capture kernel stacks into drop_stacks
 *   SKBTRAIL_STACK_ENTRIES     size of the stack map
 */
#include "skbtrail_skb.bpf.h"

BPF_PERF_OUTPUT(drop_events);
#ifdef SKBTRAIL_WANT_STACK
BPF_STACK_TRACE(drop_stacks, SKBTRAIL_STACK_ENTRIES);
#endif

TRACEPOINT_PROBE(skb, kfree_skb) {
  struct sk_buff *skb = (struct sk_buff *)args->skbaddr;
  struct skbtrail_drop_event ev = {};

  /* Cheap rejections first: no map or output work for filtered packets. */
  int has_l3 = skbtrail_read_packet(skb, &ev.pkt);
#if defined(SKBTRAIL_F_L3) || defined(SKBTRAIL_F_L4)
  if (!has_l3) return 0;
#endif
  if (!skbtrail_packet_matches(&ev.pkt)) return 0;

  __u64 pid_tgid = bpf_get_current_pid_tgid();
  ev.pid = pid_tgid >> 32;
  ev.tid = (__u32)pid_tgid;
  ev.netns = skbtrail_skb_netns(skb);
  if (!skbtrail_context_matches(ev.pid, ev.netns)) return 0;

  ev.ts_ns = bpf_ktime_get_ns();
  ev.skbaddr = (__u64)skb;
  ev.location = (__u64)args->location;
#ifdef SKBTRAIL_HAVE_DROP_REASON
  ev.reason = args->reason;
#endif
  ev.stack_id = -1;
#ifdef SKBTRAIL_WANT_STACK
  ev.stack_id = drop_stacks.get_stackid(args, 0);
#endif
  bpf_get_current_comm(&ev.comm, sizeof(ev.comm));
  skbtrail_skb_device(skb, &ev.ifindex, ev.ifname);
  drop_events.perf_submit(args, &ev, sizeof(ev));
  return 0;
}
