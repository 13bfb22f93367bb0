// The compat data (scripts/bpf-compat.data) skbtrail check lints against.
#include <cstdint>

#include "runner/data/compat_table.h"
#include "tests/fuzz/fuzz_input.h"

using namespace skbtrail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::accept_or_refuse(
      [&] {
        const CompatTable table = CompatTable::parse(fuzz::text_of(data, size), "fuzz.data");
        (void)table.helper_since("bpf_perf_event_output");
        (void)table.map_since("lru_hash");
        (void)table.prog_since("kprobe");
        (void)table.feature_since("bounded_loops");
      },
      "fuzz.data");
  return 0;
}
