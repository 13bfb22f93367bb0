/* skbtrail trace: every hop of a matching packet through the stack.
 *
 * The runner appends one small handler per hop of its probe list (a kprobe
 * function, or a tracepoint function reading the struct the runner puts
 * ahead of this text) that calls skbtrail_trace_skb() with the hop's id,
 * plus the netfilter entry/return pairs it wants.
 *
 * Runner -D flags besides the filter ones (see skbtrail_skb.bpf.h):
 *   SKBTRAIL_KEEP            follow a matched skb by address until it is freed
 *   SKBTRAIL_STACKS          capture stacks (SKBTRAIL_STACK_ALL: every event,
 *                            else drops only)
 *   SKBTRAIL_HAVE_DROP_REASON  skb:kfree_skb has `reason` (the argument
 *                            layouts of nf_hook_slow and ipt_do_table: see
 *                            skbtrail_abi.bpf.h)
 *   SKBTRAIL_HOP_KFREE_SKB   hop id of skb:kfree_skb, when it is traced
 *   SKBTRAIL_OUTPUT_SLOTS    the hop count: loss is counted per hop
 *   SKBTRAIL_SNAPLEN         --pcap: hop events carry the packet's first
 *                            bytes (see skbtrail_capture)
 *   SKBTRAIL_WANT_NF, SKBTRAIL_WANT_IPT, SKBTRAIL_WANT_NFT  nf_hook_slow /
 *                            ipt_do_table / nft_do_chain are traced
 */
#ifdef SKBTRAIL_WANT_NF
#define SKBTRAIL_WANT_NF_HOOK_ARGS 1
#endif
#ifdef SKBTRAIL_WANT_IPT
#define SKBTRAIL_WANT_IPT_ARGS 1
#endif
#ifdef SKBTRAIL_WANT_NFT
#define SKBTRAIL_WANT_NFT_ARGS 1
#endif
#include "skbtrail_skb.bpf.h"

BPF_PERF_OUTPUT(trace_events);
#ifdef SKBTRAIL_STACKS
BPF_STACK_TRACE(trace_stacks, SKBTRAIL_STACK_ENTRIES);
#endif
#ifdef SKBTRAIL_KEEP
/* A followed skb: how many of its events were lost since the last one
 * delivered, carried on the next (skb_lost: "path incomplete"). */
struct skbtrail_tracked {
  __u32 lost;
};
/* Bounded: an skb freed where no hop sees it (or whose address comes back)
 * would stay forever. With LRU maps (4.10+, RHEL 7) the oldest is
 * forgotten; before, a full table follows no new skb. Either way it is
 * counted (SKBTRAIL_KEEP_*), and the runner says so at exit. */
#ifdef SKBTRAIL_HAVE_LRU_HASH
BPF_TABLE("lru_hash", __u64, struct skbtrail_tracked, tracked_skbs, SKBTRAIL_KEEP_ENTRIES);
#else
BPF_HASH(tracked_skbs, __u64, struct skbtrail_tracked, SKBTRAIL_KEEP_ENTRIES);
#endif
#ifdef SKBTRAIL_HAVE_PERCPU_ARRAY
BPF_PERCPU_ARRAY(tracked_skbs_counts, __u64, SKBTRAIL_KEEP_COUNTS);
#endif
static __always_inline void skbtrail_keep_count(__u32 what) {
#ifdef SKBTRAIL_HAVE_PERCPU_ARRAY
  __u64 *count = tracked_skbs_counts.lookup(&what);
  if (count) *count += 1;
#endif
}
#endif
/* Entry halves of netfilter entry/return pairs, per thread. One map per
 * function: ipt_do_table and nft_do_chain run inside nf_hook_slow on the
 * same thread. */
BPF_HASH(nf_pending, __u32, struct skbtrail_trace_event, 1024);
BPF_HASH(ipt_pending, __u32, struct skbtrail_trace_event, 1024);
#ifdef SKBTRAIL_WANT_NFT
BPF_HASH(nft_pending, __u32, struct skbtrail_trace_event, 1024);
#endif

/* Fills ev from skb and decides whether it is reported. 1: report. */
static __always_inline int skbtrail_trace_fill(struct sk_buff *skb, struct skbtrail_trace_event *ev, __u8 kind) {
  if (!skb) return 0;
  __u64 key = (__u64)skb;
  int has_l3 = skbtrail_read_packet(skb, &ev->pkt);
  int tracked = 0;
#ifdef SKBTRAIL_KEEP
  tracked = tracked_skbs.lookup(&key) != 0;
#endif
  /* Reject on the packet before reading anything else: most hops see
   * packets the filter does not want (bench/overhead.sh, mode S1). */
  if (!tracked) {
#if defined(SKBTRAIL_F_L3) || defined(SKBTRAIL_F_L4)
    if (!has_l3) return 0;
#endif
    if (!skbtrail_packet_matches(&ev->pkt)) return 0;
  }
  skbtrail_skb_device(skb, &ev->ifindex, ev->ifname);
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  ev->pid = pid_tgid >> 32;
  ev->netns = skbtrail_skb_netns(skb);
  if (!tracked) {
    if (!skbtrail_ifname_matches(ev->ifname)) return 0;
    if (!skbtrail_context_matches(ev->pid, ev->netns)) return 0;
#ifdef SKBTRAIL_KEEP
    struct skbtrail_tracked start = {};
    if (kind != SKBTRAIL_TRACE_DROP && kind != SKBTRAIL_TRACE_FREE)
      skbtrail_keep_count(tracked_skbs.update(&key, &start) == 0 ? SKBTRAIL_KEEP_INSERTED : SKBTRAIL_KEEP_REFUSED);
#endif
  }

  ev->ts_ns = bpf_ktime_get_ns();
  ev->skbaddr = key;
  ev->kind = kind;
  ev->stack_id = -1;
  ev->pkt_type = skbtrail_skb_pkt_type(skb);
  unsigned char *head = 0;
  __typeof__(skb->mac_header) mac = 0;
  SKBTRAIL_READ(head, &skb->head);
  SKBTRAIL_READ(mac, &skb->mac_header);
  if (head && mac != (__typeof__(mac))SKBTRAIL_HEADER_UNSET) SKBTRAIL_READ(ev->dmac, head + mac);
  bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
  return 1;
}

static __always_inline void skbtrail_trace_stack(void *ctx, struct skbtrail_trace_event *ev) {
#ifdef SKBTRAIL_STACKS
#ifndef SKBTRAIL_STACK_ALL
  if (ev->kind != SKBTRAIL_TRACE_DROP) return;
#endif
  ev->stack_id = trace_stacks.get_stackid(ctx, 0);
#endif
}

#ifdef SKBTRAIL_SNAPLEN
/* --pcap: the event and the packet's bytes at this hop, built in place. */
struct skbtrail_trace_capture {
  struct skbtrail_trace_event ev;
  struct skbtrail_capture cap;
  __u8 data[SKBTRAIL_SNAPLEN];
};
BPF_PERCPU_ARRAY(trace_scratch, struct skbtrail_trace_capture, 1);
#endif

/* Sends one event: numbered and counted per hop (skbtrail_output.bpf.h);
 * with --keep, the skb's own losses ride on its next delivered event, and
 * its free or drop ends the tracking. skb: the packet, for --pcap's bytes;
 * 0 at a netfilter return, where it may be freed already. */
static __always_inline void skbtrail_trace_submit(void *ctx, struct skbtrail_trace_event *ev, struct sk_buff *skb) {
#ifdef SKBTRAIL_KEEP
  __u64 key = ev->skbaddr;
  struct skbtrail_tracked *tracked = tracked_skbs.lookup(&key);
  if (tracked) ev->skb_lost = tracked->lost;
#endif
  ev->seq = skbtrail_next_seq();
  int rc = 0;
#ifdef SKBTRAIL_SNAPLEN
  int zero = 0;
  struct skbtrail_trace_capture *scratch = skb ? trace_scratch.lookup(&zero) : 0;
  if (scratch) {
    scratch->ev = *ev;
    skbtrail_capture_packet(skb, &scratch->cap, scratch->data);
    rc = trace_events.perf_submit(ctx, scratch, sizeof(*scratch));
  } else {
    rc = trace_events.perf_submit(ctx, ev, sizeof(*ev));
  }
#else
  rc = trace_events.perf_submit(ctx, ev, sizeof(*ev));
#endif
  skbtrail_count_output(ev->probe_id, rc);
#ifdef SKBTRAIL_KEEP
  /* Looked up again, not kept across the helper calls: the 4.9 verifier
   * loses a null-checked map value held that long ("R7 invalid mem
   * access 'inv'"). */
  struct skbtrail_tracked *after = tracked_skbs.lookup(&key);
  if (!after) return;
  if (ev->kind == SKBTRAIL_TRACE_DROP || ev->kind == SKBTRAIL_TRACE_FREE) {
    if (tracked_skbs.delete(&key) == 0) skbtrail_keep_count(SKBTRAIL_KEEP_DELETED);
  } else {
    after->lost = rc < 0 ? after->lost + 1 : 0;
  }
#endif
}

static __always_inline int skbtrail_trace_skb(void *ctx, struct sk_buff *skb, __u16 probe_id, __u8 kind) {
  struct skbtrail_trace_event ev = {};
  if (!skbtrail_trace_fill(skb, &ev, kind)) return 0;
  ev.probe_id = probe_id;
  skbtrail_trace_stack(ctx, &ev);
  skbtrail_trace_submit(ctx, &ev, skb);
  return 0;
}

/* Netfilter: the entry half records the packet (the skb may be freed by
 * the time the hook returns NF_DROP), the return half adds the verdict. */
static __always_inline int skbtrail_nf_entry(struct sk_buff *skb, __u16 probe_id, __u8 kind, __u8 pf, __u8 hook,
                                             const char *table_name, const char *chain_name) {
  struct skbtrail_trace_event ev = {};
  if (!skbtrail_trace_fill(skb, &ev, kind)) return 0;
  ev.probe_id = probe_id;
  ev.nf_pf = pf;
  ev.nf_hook = hook;
  if (table_name) SKBTRAIL_READ_STR(ev.table, sizeof(ev.table), table_name);
  if (chain_name) SKBTRAIL_READ_STR(ev.chain, sizeof(ev.chain), chain_name);
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  if (kind == SKBTRAIL_TRACE_IPT)
    ipt_pending.update(&tid, &ev);
#ifdef SKBTRAIL_WANT_NFT
  else if (kind == SKBTRAIL_TRACE_NFT)
    nft_pending.update(&tid, &ev);
#endif
  else
    nf_pending.update(&tid, &ev);
  return 0;
}

/* The return half: the entry's event with the verdict. Before 4.11 helpers
 * take only stack memory, so the map value is copied out first (the 4.9
 * verifier rejects perf_submit of a map value with "R4 type=map_value
 * expected=fp"). */
static __always_inline int skbtrail_pending_submit(struct pt_regs *ctx, struct skbtrail_trace_event *pending) {
  pending->verdict = (__s32)PT_REGS_RC(ctx);
  pending->ts_ns = bpf_ktime_get_ns();
#ifdef SKBTRAIL_MAP_VALUES_TO_STACK
  struct skbtrail_trace_event ev = *pending;
  skbtrail_trace_submit(ctx, &ev, 0);
#else
  skbtrail_trace_submit(ctx, pending, 0);
#endif
  return 0;
}

static __always_inline int skbtrail_nf_return(struct pt_regs *ctx) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct skbtrail_trace_event *ev = nf_pending.lookup(&tid);
  if (!ev) return 0;
  skbtrail_pending_submit(ctx, ev);
  nf_pending.delete(&tid);
  return 0;
}

static __always_inline int skbtrail_ipt_return(struct pt_regs *ctx) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct skbtrail_trace_event *ev = ipt_pending.lookup(&tid);
  if (!ev) return 0;
  skbtrail_pending_submit(ctx, ev);
  ipt_pending.delete(&tid);
  return 0;
}

#ifdef SKBTRAIL_WANT_NF
static __always_inline int skbtrail_nf_hook_slow_entry(struct pt_regs *ctx, __u16 probe_id) {
  struct skbtrail_nf_hook_args a = skbtrail_nf_hook_slow_args(ctx);
  return skbtrail_nf_entry(a.skb, probe_id, SKBTRAIL_TRACE_NF, a.pf, a.hook, 0, 0);
}
#endif /* SKBTRAIL_WANT_NF */

#ifdef SKBTRAIL_WANT_IPT
static __always_inline int skbtrail_ipt_entry(struct pt_regs *ctx, __u16 probe_id) {
  struct skbtrail_ipt_args a = skbtrail_ipt_do_table_args(ctx);
  /* NFPROTO_IPV4: ipt_do_table is IPv4 only. Address arithmetic, not
   * table->name: nothing for BCC to rewrite. */
  return skbtrail_nf_entry(a.skb, probe_id, SKBTRAIL_TRACE_IPT, 2, a.hook,
                           (const char *)a.table + __builtin_offsetof(struct xt_table, name), 0);
}
#endif /* SKBTRAIL_WANT_IPT */

#ifdef SKBTRAIL_WANT_NFT
/* nft_do_chain runs once per base chain a packet meets (jumps stay inside
 * it): its return is the base chain's verdict. */
static __always_inline int skbtrail_nft_entry(struct pt_regs *ctx, __u16 probe_id) {
  struct skbtrail_nft_args a = skbtrail_nft_do_chain_args(ctx);
  return skbtrail_nf_entry(a.skb, probe_id, SKBTRAIL_TRACE_NFT, a.family, a.hook, a.table_name, a.chain_name);
}

static __always_inline int skbtrail_nft_return(struct pt_regs *ctx) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct skbtrail_trace_event *ev = nft_pending.lookup(&tid);
  if (!ev) return 0;
  skbtrail_pending_submit(ctx, ev);
  nft_pending.delete(&tid);
  return 0;
}
#endif /* SKBTRAIL_WANT_NFT */

#ifdef SKBTRAIL_HOP_KFREE_SKB
/* skb:kfree_skb carries the drop location (and reason on 5.17+); its struct
 * comes from the runner, like every tracepoint hop's. */
int skbtrail_tp_kfree_skb(struct skbtrail_tp_skb_kfree_skb *args) {
  struct skbtrail_trace_event ev = {};
  if (!skbtrail_trace_fill((struct sk_buff *)args->skbaddr, &ev, SKBTRAIL_TRACE_DROP)) return 0;
  ev.probe_id = SKBTRAIL_HOP_KFREE_SKB;
  ev.location = (__u64)args->location;
#ifdef SKBTRAIL_HAVE_DROP_REASON
  ev.reason = args->reason;
#endif
  skbtrail_trace_stack(args, &ev);
  skbtrail_trace_submit(args, &ev, (struct sk_buff *)args->skbaddr);
  return 0;
}
#endif

/* kfree_skb / consume_skb as kprobes, before 4.7 (no BPF on tracepoints):
 * the caller stands in for the tracepoint's location. */
static __always_inline int skbtrail_trace_kprobe_free(struct pt_regs *ctx, __u16 probe_id, __u8 kind) {
  struct skbtrail_trace_event ev = {};
  if (!skbtrail_trace_fill((struct sk_buff *)PT_REGS_PARM1(ctx), &ev, kind)) return 0;
  ev.probe_id = probe_id;
  ev.location = skbtrail_kprobe_caller(ctx);
  skbtrail_trace_stack(ctx, &ev);
  skbtrail_trace_submit(ctx, &ev, (struct sk_buff *)PT_REGS_PARM1(ctx));
  return 0;
}

/* Handlers generated by the runner follow. */
