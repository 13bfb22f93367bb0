// Probe lists (scripts/trace.probes, trace --probes FILE) and --add-probe.
#include <cstdint>
#include <string>

#include "runner/data/probe_list.h"
#include "tests/fuzz/fuzz_input.h"

using namespace skbtrail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::text_of(data, size);
  fuzz::accept_or_refuse(
      [&] {
        for (const auto& hop : parse_probe_list(text, "fuzz.probes")) {
          // What planning asks of every hop, on an old, a RHEL 7 and a new kernel.
          for (const uint32_t version : {0x030a00u, 0x040900u, 0x060c00u}) (void)hop.matches_version(version);
          (void)hop.category();
          (void)hop.event();
          (void)hop.stands_in_for("skb:kfree_skb");
        }
      },
      "fuzz.probes");
  // --add-probe takes one word; the fuzzer's first line stands for it.
  const std::string_view word = text.substr(0, text.find('\n'));
  fuzz::accept_or_refuse([&] { (void)parse_added_probe(word); });
  return 0;
}
