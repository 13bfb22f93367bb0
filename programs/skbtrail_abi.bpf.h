/* The kernel ABI as the BPF programs read it: every place where kernels
 * differ in a helper, a struct path or the position of a probed function's
 * argument, in one header. The runner decides each branch
 * (runner/kernel/abi.cpp for kernels that are not running, the probes of
 * runner/kernel/bpf_features.cpp for the running one) and passes -D flags:
 *
 *   SKBTRAIL_HAVE_PROBE_READ_KERNEL  bpf_probe_read_kernel{,_str} (5.5+)
 *   SKBTRAIL_HAVE_PROBE_READ_STR     bpf_probe_read_str (4.11+, RHEL 7)
 *   SKBTRAIL_HAVE_DROP_REASON        skb:kfree_skb has `reason` (5.17+)
 *   SKBTRAIL_NF_ARGS_LEGACY          nf_hook_slow(pf, hook, skb, ...) (< 4.1)
 *   SKBTRAIL_IPT_ARGS_PRIV / _STATE / _HOOK_STATE  ipt_do_table's layout
 *   SKBTRAIL_NFT_CHAIN_IN_OPS        nft_do_chain(pkt, ops): the chain is
 *                                    ops->priv (< 4.1, RHEL 7)
 *   SKBTRAIL_NFT_PKT_STATE / _XT_STATE / _PF_HOOK  where nft_pktinfo keeps
 *                                    the hook and family (else xt.hooknum)
 *   SKBTRAIL_NFT_NAME_POINTERS       table and chain names are pointers (4.15+)
 *   SKBTRAIL_NFT_TABLE_FAMILY        struct nft_table has its family (4.16+)
 *   SKBTRAIL_NF_RESET{,6}_{SKB,HOOK}_ARG  nf_send_reset{,6}'s skb and hook
 *   SKBTRAIL_CT_LOG_{FMT,ARGS}_ARG   nf_ct_l4proto_log_invalid's format
 *   SKBTRAIL_RST_REASON_ARG          the RST senders take a reason (6.10+)
 *   SKBTRAIL_ACTIVE_RESET_REASON_ARG tcp_send_active_reset's reason argument
 *   SKBTRAIL_MAP_VALUES_TO_STACK     helpers want stack memory, not map
 *                                    values (< 4.11)
 *
 * Included by skbtrail_skb.bpf.h after the kernel headers.
 */
#ifndef SKBTRAIL_ABI_BPF_H
#define SKBTRAIL_ABI_BPF_H

/* A program asks for the netfilter readers by defining these before it
 * includes skbtrail_skb.bpf.h. */
#if !defined(SKBTRAIL_BTF) && (defined(SKBTRAIL_WANT_NF_HOOK_ARGS) || defined(SKBTRAIL_WANT_IPT_ARGS))
#include <linux/netfilter.h>
#endif
#if !defined(SKBTRAIL_BTF) && defined(SKBTRAIL_WANT_IPT_ARGS)
#include <linux/netfilter/x_tables.h>
#endif
#if !defined(SKBTRAIL_BTF) && defined(SKBTRAIL_WANT_NFT_ARGS)
#include <net/netfilter/nf_tables.h>
#endif

/* Reading kernel memory. bpf_probe_read_kernel() exists from 5.5; older
 * kernels only have the untyped bpf_probe_read(), and before 4.11 no string
 * read either. */
#ifdef SKBTRAIL_HAVE_PROBE_READ_KERNEL
#define SKBTRAIL_READ_BYTES(dst, size, src) bpf_probe_read_kernel((dst), (size), (src))
#define SKBTRAIL_READ(dst, src) bpf_probe_read_kernel(&(dst), sizeof(dst), (src))
#define SKBTRAIL_READ_STR(dst, size, src) bpf_probe_read_kernel_str((dst), (size), (src))
#else
#define SKBTRAIL_READ_BYTES(dst, size, src) bpf_probe_read((dst), (size), (src))
#define SKBTRAIL_READ(dst, src) bpf_probe_read(&(dst), sizeof(dst), (src))
#ifdef SKBTRAIL_HAVE_PROBE_READ_STR
#define SKBTRAIL_READ_STR(dst, size, src) bpf_probe_read_str((dst), (size), (src))
#else /* device and table names are NUL-padded arrays: a plain read is enough */
#define SKBTRAIL_READ_STR(dst, size, src) bpf_probe_read((dst), (size), (src))
#endif
#endif

/* Argument N of a kprobe, N a macro. */
#define SKBTRAIL_PARM_(n, ctx) PT_REGS_PARM##n(ctx)
#define SKBTRAIL_PARM(n, ctx) SKBTRAIL_PARM_(n, ctx)

/* At a kprobe on a function's first instruction the return address is at the
 * top of the stack: the caller. Without stack maps (< 4.6) it is all there
 * is; with frame-pointer unwinding (before the ORC unwinder of 4.14) a
 * kprobe's stack skips it, because the probed function has not pushed its
 * frame yet. */
static __always_inline __u64 skbtrail_kprobe_caller(struct pt_regs *ctx) {
  __u64 ret = 0;
  SKBTRAIL_READ(ret, (void *)PT_REGS_SP(ctx));
  return ret;
}

/* Network namespaces. A possible_net_t member as a struct net *:
 * possible_net_t became a struct with a .net member in 4.1 (0c5c9fb55106
 * "net: Introduce possible_net_t"); before, and in RHEL 7, where
 * possible_net_t is a #define for struct net *, the member is the pointer. */
#if defined(possible_net_t) || LINUX_VERSION_CODE < KERNEL_VERSION(4, 1, 0)
#define SKBTRAIL_NET_FIELD(member) (member)
#else
#define SKBTRAIL_NET_FIELD(member) ((member).net)
#endif

/* The inode number naming a network namespace: net->ns.inum since 3.19
 * (435d5f4bb2cc "common object embedded into various struct ....ns"),
 * net->proc_inum before (RHEL 7 too). */
static __always_inline __u32 skbtrail_net_inum(struct net *net) {
  __u32 inum = 0;
  if (!net) return 0;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(3, 19, 0)
  SKBTRAIL_READ(inum, &net->ns.inum);
#else
  SKBTRAIL_READ(inum, &net->proc_inum);
#endif
  return inum;
}

/* Inode number of a socket's network namespace; 0 when unknown. */
static __always_inline __u32 skbtrail_sock_netns(struct sock *sk) {
#if defined(CONFIG_NET_NS)
  struct net *net = 0;
  if (!sk) return 0;
  SKBTRAIL_READ(net, &SKBTRAIL_NET_FIELD(sk->__sk_common.skc_net));
  return skbtrail_net_inum(net);
#else
  return 0;
#endif
}

/* Inode number of the skb's network namespace: from its device, else its
 * socket. 0 when neither is known. */
static __always_inline __u32 skbtrail_skb_netns(struct sk_buff *skb) {
#if defined(CONFIG_NET_NS)
  struct net_device *dev = 0;
  SKBTRAIL_READ(dev, &skb->dev);
  if (dev) {
    struct net *net = 0;
    SKBTRAIL_READ(net, &SKBTRAIL_NET_FIELD(dev->nd_net));
    return skbtrail_net_inum(net);
  }
  struct sock *sk = 0;
  SKBTRAIL_READ(sk, &skb->sk);
  return skbtrail_sock_netns(sk);
#else
  return 0;
#endif
}

/* skb->pkt_type: a 3-bit field right after the __pkt_type_offset marker
 * (4.1+; RHEL 7 has no marker). Older kernels: unknown (0), a bitfield has
 * no address to read from. */
static __always_inline __u8 skbtrail_skb_pkt_type(struct sk_buff *skb) {
#if LINUX_VERSION_CODE >= KERNEL_VERSION(4, 1, 0)
  __u8 type_byte = 0;
  SKBTRAIL_READ(type_byte, (unsigned char *)skb + __builtin_offsetof(struct sk_buff, __pkt_type_offset));
  return type_byte & 7;
#else
  return 0;
#endif
}

/* Netfilter hooks: where nf_hook_slow's skb, family and hook are. */
#ifdef SKBTRAIL_WANT_NF_HOOK_ARGS
struct skbtrail_nf_hook_args {
  struct sk_buff *skb;
  __u8 pf;
  __u8 hook;
};

static __always_inline struct skbtrail_nf_hook_args skbtrail_nf_hook_slow_args(struct pt_regs *ctx) {
  struct skbtrail_nf_hook_args a = {};
#ifdef SKBTRAIL_NF_ARGS_LEGACY
  /* before 4.1: nf_hook_slow(pf, hook, skb, indev, outdev, okfn, thresh) */
  a.pf = (__u8)PT_REGS_PARM1(ctx);
  a.hook = (__u8)PT_REGS_PARM2(ctx);
  a.skb = (struct sk_buff *)PT_REGS_PARM3(ctx);
#else
  /* nf_hook_slow(skb, state, ...) since 4.1 (1c15b677e6b4 "netfilter: Pass
   * struct nf_hook_state through nf_hook_slow()"), RHEL 7 included */
  struct nf_hook_state *state = (struct nf_hook_state *)PT_REGS_PARM2(ctx);
  __typeof__(state->hook) hook = 0;
  a.skb = (struct sk_buff *)PT_REGS_PARM1(ctx);
  SKBTRAIL_READ(a.pf, &state->pf);
  SKBTRAIL_READ(hook, &state->hook);
  a.hook = (__u8)hook;
#endif
  return a;
}
#endif /* SKBTRAIL_WANT_NF_HOOK_ARGS */

/* ipt_do_table: its skb, hook and struct xt_table. struct xt_table lives in
 * the x_tables module: only compiled when wanted (in BTF mode it exists only
 * if x_tables is built in). */
#ifdef SKBTRAIL_WANT_IPT_ARGS
struct skbtrail_ipt_args {
  struct sk_buff *skb;
  struct xt_table *table;
  __u8 hook;
};

static __always_inline struct skbtrail_ipt_args skbtrail_ipt_do_table_args(struct pt_regs *ctx) {
  struct skbtrail_ipt_args a = {};
#if defined(SKBTRAIL_IPT_ARGS_PRIV) || defined(SKBTRAIL_IPT_ARGS_STATE)
  struct nf_hook_state *state;
#ifdef SKBTRAIL_IPT_ARGS_PRIV /* 5.16+: ipt_do_table(priv, skb, state), the hook function itself */
  a.table = (struct xt_table *)PT_REGS_PARM1(ctx);
  a.skb = (struct sk_buff *)PT_REGS_PARM2(ctx);
  state = (struct nf_hook_state *)PT_REGS_PARM3(ctx);
#else /* 4.4-5.15: ipt_do_table(skb, state, table) */
  a.skb = (struct sk_buff *)PT_REGS_PARM1(ctx);
  state = (struct nf_hook_state *)PT_REGS_PARM2(ctx);
  a.table = (struct xt_table *)PT_REGS_PARM3(ctx);
#endif
  __typeof__(state->hook) state_hook = 0;
  SKBTRAIL_READ(state_hook, &state->hook);
  a.hook = (__u8)state_hook;
#else
  a.skb = (struct sk_buff *)PT_REGS_PARM1(ctx);
  a.hook = (__u8)PT_REGS_PARM2(ctx);
#ifdef SKBTRAIL_IPT_ARGS_HOOK_STATE /* 4.1-4.3 and RHEL 7: (skb, hook, state, table) */
  a.table = (struct xt_table *)PT_REGS_PARM4(ctx);
#else /* before 4.1: (skb, hook, in, out, table) */
  a.table = (struct xt_table *)PT_REGS_PARM5(ctx);
#endif
#endif
  return a;
}
#endif /* SKBTRAIL_WANT_IPT_ARGS */

/* nft_do_chain(pkt, priv): the packet, the base chain it runs, and the
 * family, table and hook as `nft list ruleset` names them. Struct members
 * are read by address (offsetof + SKBTRAIL_READ) so BCC has nothing to
 * rewrite; the types live in the nf_tables module, so this is only
 * compiled when wanted. */
#ifdef SKBTRAIL_WANT_NFT_ARGS
struct skbtrail_nft_args {
  struct sk_buff *skb;
  const struct nft_chain *chain;
  const char *table_name;
  const char *chain_name;
  __u8 family;
  __u8 hook;
};

static __always_inline struct skbtrail_nft_args skbtrail_nft_do_chain_args(struct pt_regs *ctx) {
  struct skbtrail_nft_args a = {};
  const struct nft_pktinfo *pkt = (const struct nft_pktinfo *)PT_REGS_PARM1(ctx);
  SKBTRAIL_READ(a.skb, &pkt->skb);
#ifdef SKBTRAIL_NFT_CHAIN_IN_OPS
  /* nft_do_chain(pkt, ops) until 4.1 ("netfilter: Pass priv instead of
   * nf_hook_ops to netfilter hooks", 06198b34a3e0); RHEL 7 kept it */
  const struct nf_hook_ops *ops = (const struct nf_hook_ops *)PT_REGS_PARM2(ctx);
  SKBTRAIL_READ(a.chain, &ops->priv);
#else
  a.chain = (const struct nft_chain *)PT_REGS_PARM2(ctx);
#endif

  /* Hook and family of the hook point running the chain. */
#if defined(SKBTRAIL_NFT_PKT_STATE) || defined(SKBTRAIL_NFT_PKT_XT_STATE)
  const struct nf_hook_state *state = 0;
#ifdef SKBTRAIL_NFT_PKT_STATE /* 5.14+: pkt->state (xt_action_param left nft_pktinfo) */
  SKBTRAIL_READ(state, &pkt->state);
#else /* 4.10-5.13: pkt->xt.state ("netfilter: x_tables: move hook state into xt_action_param") */
  SKBTRAIL_READ(state, &pkt->xt.state);
#endif
  __typeof__(state->hook) state_hook = 0;
  __typeof__(state->pf) state_pf = 0;
  SKBTRAIL_READ(state_hook, &state->hook);
  SKBTRAIL_READ(state_pf, &state->pf);
  a.hook = (__u8)state_hook;
  a.family = (__u8)state_pf;
#elif defined(SKBTRAIL_NFT_PKT_PF_HOOK) /* 4.1-4.9: pkt->pf, pkt->hook */
  SKBTRAIL_READ(a.hook, &pkt->hook);
  SKBTRAIL_READ(a.family, &pkt->pf);
#else /* before 4.1 and RHEL 7: the x_tables fields */
  __typeof__(pkt->xt.hooknum) hooknum = 0;
  SKBTRAIL_READ(hooknum, &pkt->xt.hooknum);
  SKBTRAIL_READ(a.family, &pkt->xt.family);
  a.hook = (__u8)hooknum;
#endif

  const struct nft_table *table = 0;
  SKBTRAIL_READ(table, &a.chain->table);
#ifdef SKBTRAIL_NFT_NAME_POINTERS
  /* char *name since 4.15 ("netfilter: nf_tables: Allow table names of up
   * to 255 chars", e46abbcc05aa, and the same for chains, b7263e071aba) */
  SKBTRAIL_READ(a.table_name, &table->name);
  SKBTRAIL_READ(a.chain_name, &a.chain->name);
#else
  a.table_name = (const char *)table + __builtin_offsetof(struct nft_table, name);
  a.chain_name = (const char *)a.chain + __builtin_offsetof(struct nft_chain, name);
#endif
#ifdef SKBTRAIL_NFT_TABLE_FAMILY
  /* The table's own family (an inet table runs at ipv4 and ipv6 hooks)
   * since 4.16 ("netfilter: nf_tables: add single table list for all
   * families", 36596dadf54a): `u16 family:6` right after `u32 use`. A
   * bit-field has no address, so the u16 is read and the low 6 bits (x86
   * allocates bit-fields from the low end) taken. */
  __u16 family_bits = 0;
  SKBTRAIL_READ(family_bits, (const char *)table + __builtin_offsetof(struct nft_table, use) + sizeof(table->use));
  a.family = family_bits & 0x3f;
#endif
  return a;
}
#endif /* SKBTRAIL_WANT_NFT_ARGS */

/* The RST senders: tcp_v{4,6}_send_reset(sk, skb[, reason]) and
 * tcp_send_active_reset(sk, priority[, reason]); the reason (enum
 * sk_rst_reason) is an argument from 6.10. Each expands to two arguments:
 * the reason and whether there is one. */
#ifdef SKBTRAIL_RST_REASON_ARG
#define SKBTRAIL_RST_REASON(ctx) ((__u32)PT_REGS_PARM3(ctx)), 1
/* tcp_send_active_reset(sk, priority, reason) from 6.10; (sk, reason) where
 * the priority went (later kernels, Debian's 6.12 stable): which one the
 * runner reads from the kernel's own prototype (its BTF or header tree). */
#define SKBTRAIL_ACTIVE_RESET_REASON(ctx) ((__u32)SKBTRAIL_PARM(SKBTRAIL_ACTIVE_RESET_REASON_ARG, ctx)), 1
#else
#define SKBTRAIL_RST_REASON(ctx) 0, 0
#define SKBTRAIL_ACTIVE_RESET_REASON(ctx) 0, 0
#endif

/* nf_send_reset{,6}: the skb answered and the hook, by argument number. */
#define SKBTRAIL_NF_RESET_SKB(ctx) ((struct sk_buff *)SKBTRAIL_PARM(SKBTRAIL_NF_RESET_SKB_ARG, ctx))
#define SKBTRAIL_NF_RESET_HOOK(ctx) ((__u8)SKBTRAIL_PARM(SKBTRAIL_NF_RESET_HOOK_ARG, ctx))
#define SKBTRAIL_NF_RESET6_SKB(ctx) ((struct sk_buff *)SKBTRAIL_PARM(SKBTRAIL_NF_RESET6_SKB_ARG, ctx))
#define SKBTRAIL_NF_RESET6_HOOK(ctx) ((__u8)SKBTRAIL_PARM(SKBTRAIL_NF_RESET6_HOOK_ARG, ctx))

/* nf_ct_l4proto_log_invalid(skb, ct, [state,] fmt, ...): the format and the
 * first variadic argument. */
#define SKBTRAIL_CT_LOG_FMT(ctx) ((const char *)SKBTRAIL_PARM(SKBTRAIL_CT_LOG_FMT_ARG, ctx))
#define SKBTRAIL_CT_LOG_FIRST_ARG(ctx) ((const void *)SKBTRAIL_PARM(SKBTRAIL_CT_LOG_ARGS_ARG, ctx))

#endif /* SKBTRAIL_ABI_BPF_H */
