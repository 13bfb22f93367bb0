/* skbtrail drop: every skb the kernel drops, from the skb:kfree_skb
 * tracepoint (present on all kernels with eBPF; its `reason` field from 5.17).
 * The runner puts the tracepoint's struct ahead of this text.
 *
 * Runner -D flags besides the filter ones (see skbtrail_skb.bpf.h):
 *   SKBTRAIL_HAVE_DROP_REASON  the tracepoint has a `reason` field (see
 *                              skbtrail_abi.bpf.h for the ABI flags)
 *   SKBTRAIL_WANT_STACK        capture kernel stacks into drop_stacks
 *   SKBTRAIL_STACK_ENTRIES     size of the stack map
 *   SKBTRAIL_NF_CONTEXT        also kprobe nf_hook_slow, so a netfilter drop
 *                              names its hook (--diag on kernels with kprobes)
 *   SKBTRAIL_KFREE_KPROBE      also a kprobe handler for kfree_skb, for
 *                              kernels before 4.7 (no BPF on tracepoints)
 *   SKBTRAIL_HAVE_PERCPU_ARRAY loss accounting (skbtrail_output.bpf.h)
 *   SKBTRAIL_SNAPLEN           --pcap: each event is followed by a
 *                              struct skbtrail_capture and this many bytes
 *                              of the packet (a multiple of 8)
 */
#ifdef SKBTRAIL_NF_CONTEXT
#define SKBTRAIL_WANT_NF_HOOK_ARGS 1
#endif
#include "skbtrail_skb.bpf.h"

BPF_PERF_OUTPUT(drop_events);
#ifdef SKBTRAIL_NF_CONTEXT
/* The hook each thread is running, between nf_hook_slow's entry and return:
 * an NF_DROP frees the skb inside it, on the same thread. */
struct skbtrail_nf_context {
  __u8 pf;
  __u8 hook;
};
BPF_HASH(nf_running, __u32, struct skbtrail_nf_context, 1024);

int skbtrail_nf_hook_slow_enter(struct pt_regs *ctx) {
  struct skbtrail_nf_hook_args args = skbtrail_nf_hook_slow_args(ctx);
  struct skbtrail_nf_context nf = {};
  nf.pf = args.pf;
  nf.hook = args.hook;
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  nf_running.update(&tid, &nf);
  return 0;
}

int skbtrail_nf_hook_slow_return(struct pt_regs *ctx) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  nf_running.delete(&tid);
  return 0;
}
#endif
#ifdef SKBTRAIL_WANT_STACK
BPF_STACK_TRACE(drop_stacks, SKBTRAIL_STACK_ENTRIES);
#endif

#ifdef SKBTRAIL_SNAPLEN
/* The event and the packet's bytes, built in place: too big for the stack. */
struct skbtrail_drop_capture {
  struct skbtrail_drop_event ev;
  struct skbtrail_capture cap;
  __u8 data[SKBTRAIL_SNAPLEN];
};
BPF_PERCPU_ARRAY(drop_scratch, struct skbtrail_drop_capture, 1);
#endif

/* Output slots (loss accounting): which handler sent the event. */
#define SKBTRAIL_DROP_SLOT_TRACEPOINT 0
#define SKBTRAIL_DROP_SLOT_KPROBE 1

static __always_inline int skbtrail_drop(void *ctx, struct sk_buff *skb, __u64 location, __u32 reason, __u32 slot) {
  struct skbtrail_packet pkt = {};

  /* Cheap rejections first: no map or output work for filtered packets. */
  int has_l3 = skbtrail_read_packet(skb, &pkt);
#if defined(SKBTRAIL_F_L3) || defined(SKBTRAIL_F_L4)
  if (!has_l3) return 0;
#endif
  if (!skbtrail_packet_matches(&pkt)) return 0;
#ifdef SKBTRAIL_SNAPLEN
  int zero = 0;
  struct skbtrail_drop_capture *scratch = drop_scratch.lookup(&zero);
  if (!scratch) return 0;
  struct skbtrail_drop_event *e = &scratch->ev;
  __builtin_memset(e, 0, sizeof(*e));
#else
  struct skbtrail_drop_event ev = {};
  struct skbtrail_drop_event *e = &ev;
#endif
  e->pkt = pkt;

  __u64 pid_tgid = bpf_get_current_pid_tgid();
  e->pid = pid_tgid >> 32;
  e->tid = (__u32)pid_tgid;
  e->netns = skbtrail_skb_netns(skb);
  if (!skbtrail_context_matches(e->pid, e->netns)) return 0;

  e->ts_ns = bpf_ktime_get_ns();
  e->skbaddr = (__u64)skb;
  e->location = location;
  e->reason = reason;
  e->stack_id = -1;
#ifdef SKBTRAIL_WANT_STACK
  e->stack_id = drop_stacks.get_stackid(ctx, 0);
#endif
  bpf_get_current_comm(&e->comm, sizeof(e->comm));
  skbtrail_skb_device(skb, &e->ifindex, e->ifname);
#ifdef SKBTRAIL_NF_CONTEXT
  struct skbtrail_nf_context *nf = nf_running.lookup(&e->tid);
  if (nf) {
    e->nf_valid = 1;
    e->nf_pf = nf->pf;
    e->nf_hook = nf->hook;
  }
#endif
  e->seq = skbtrail_next_seq();
#ifdef SKBTRAIL_SNAPLEN
  skbtrail_capture_packet(skb, &scratch->cap, scratch->data);
  int rc = drop_events.perf_submit(ctx, scratch, sizeof(*scratch));
#else
  int rc = drop_events.perf_submit(ctx, e, sizeof(*e));
#endif
  skbtrail_count_output(slot, rc);
  return 0;
}

/* skb:kfree_skb, read through the layout the runner puts ahead of this
 * text from the kernel's own format (struct skbtrail_tp_skb_kfree_skb:
 * skbaddr, location, and reason from 5.17). */
int skbtrail_tp_kfree_skb(struct skbtrail_tp_skb_kfree_skb *args) {
  __u32 reason = 0;
#ifdef SKBTRAIL_HAVE_DROP_REASON
  reason = args->reason;
#endif
  return skbtrail_drop(args, (struct sk_buff *)args->skbaddr, (__u64)args->location, reason,
                       SKBTRAIL_DROP_SLOT_TRACEPOINT);
}

#ifdef SKBTRAIL_KFREE_KPROBE
/* kfree_skb(skb) itself; its caller is the location the tracepoint reports. */
int skbtrail_kprobe_kfree_skb(struct pt_regs *ctx) {
  return skbtrail_drop(ctx, (struct sk_buff *)PT_REGS_PARM1(ctx), skbtrail_kprobe_caller(ctx), 0,
                       SKBTRAIL_DROP_SLOT_KPROBE);
}
#endif
