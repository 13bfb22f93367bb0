/* Exact loss accounting, shared by every skbtrail program.
 *
 * Each event gets this CPU's next sequence number before it is sent, and
 * each send is counted per output slot (drop: its handler; rst: the RST
 * source; trace: the hop) as tried, and as failed when perf_event_output
 * refuses it (the ring is full: -ENOSPC). The runner (runner/session/
 * loss_ledger.h) turns gaps in a CPU's numbers into "N events lost on cpu
 * C" where they happened and reconciles the counters at exit: seen + lost
 * = tried, exactly. Per-CPU maps, so no atomics; BPF programs do not nest
 * on one CPU (bpf_prog_active), so a CPU's numbers reach its ring in order.
 *
 * Runner -D flags:
 *   SKBTRAIL_HAVE_PERCPU_ARRAY  the kernel has BPF_MAP_TYPE_PERCPU_ARRAY
 *                               (4.6, a10423b87a7e; RHEL 7's backport);
 *                               without it, seq stays 0 and only perf's own
 *                               lost-sample records tell of loss
 *   SKBTRAIL_OUTPUT_SLOTS       how many slots the program counts (default 8)
 */
#ifndef SKBTRAIL_OUTPUT_BPF_H
#define SKBTRAIL_OUTPUT_BPF_H

#ifndef SKBTRAIL_OUTPUT_SLOTS
#define SKBTRAIL_OUTPUT_SLOTS 8
#endif

#ifdef SKBTRAIL_HAVE_PERCPU_ARRAY
BPF_PERCPU_ARRAY(skbtrail_output_seq, __u64, 1);
BPF_PERCPU_ARRAY(skbtrail_output_counts, struct skbtrail_output_count, SKBTRAIL_OUTPUT_SLOTS);

static __always_inline __u64 skbtrail_next_seq(void) {
  int zero = 0;
  __u64 *seq = skbtrail_output_seq.lookup(&zero);
  if (!seq) return 0;
  *seq += 1;
  return *seq;
}

/* rc: what perf_submit returned for the event numbered by skbtrail_next_seq(). */
static __always_inline void skbtrail_count_output(__u32 slot, int rc) {
  struct skbtrail_output_count *count = skbtrail_output_counts.lookup(&slot);
  if (!count) return;
  count->tried += 1;
  if (rc < 0) count->failed += 1;
}
#else
static __always_inline __u64 skbtrail_next_seq(void) { return 0; }
static __always_inline void skbtrail_count_output(__u32 slot, int rc) {}
#endif

#endif /* SKBTRAIL_OUTPUT_BPF_H */
