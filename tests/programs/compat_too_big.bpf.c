/* A program skbtrail check must reject for kernels before 5.2: the unrolled
 * loop makes it far larger than the old 4096-instruction limit. */
int kprobe__tcp_v4_send_reset(struct pt_regs *ctx) {
  u64 acc = bpf_get_prandom_u32();
#pragma unroll
  for (int i = 0; i < 3000; i++) acc = acc * 31 + (acc >> 7);
  bpf_trace_printk("%llu\n", acc);
  return 0;
}
