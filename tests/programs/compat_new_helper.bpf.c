/* A program skbtrail check must reject for kernels before 5.8: it calls
 * bpf_ktime_get_boot_ns(), a 5.8 helper. */
int kprobe__tcp_v4_send_reset(struct pt_regs *ctx) {
  u64 now = bpf_ktime_get_boot_ns();
  bpf_trace_printk("reset at %llu\n", now);
  return 0;
}
