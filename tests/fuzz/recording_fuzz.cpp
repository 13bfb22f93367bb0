// drop --replay FILE: a recording's samples through drop's whole user-space
// half (decode, name, diagnose with the bundled rules, format as text or
// JSON, write --pcap), as on another machine. Inputs that do not start
// like a recording get drop's header put in front, so the fuzzer spends
// its time on the samples; the first byte then picks text or JSON.
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>

#include "runner/bpf/recording.h"
#include "runner/data/rules.h"
#include "runner/kernel/kallsyms.h"
#include "runner/output/address_namer.h"
#include "runner/output/output.h"
#include "runner/tools/drop/drop_reporter.h"
#include "tests/fuzz/fuzz_input.h"

using namespace skbtrail;

namespace {

// The names a replay resolves locations with: a few real symbols, so
// locations land inside functions (and rules match on them).
const Kallsyms& symbols() {
  static const Kallsyms k = [] {
    std::istringstream in(
        "ffffffff81000000 T _text\n"
        "ffffffff81a00000 T tcp_v4_rcv\n"
        "ffffffff81a01000 T tcp_v4_send_reset\n"
        "ffffffff81b00000 T nf_hook_slow\n"
        "ffffffff81b01000 T ip_rcv\n"
        "ffffffffc0100000 t nft_do_chain\t[nf_tables]\n");
    return Kallsyms::parse(in);
  }();
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const RuleSet rules = RuleSet::load("drop.rules", {});
  static const TracepointFormat format =
      read_tracepoint_format(SKBTRAIL_FIXTURES "/tracepoint/kfree_skb-6.18.format");
  static const AddressNamer names(symbols());
  static const auto pcap = std::make_shared<PcapngWriter>("/dev/null", 128, "skbtrail fuzz");

  std::string bytes(fuzz::text_of(data, size));
  bool json = false;
  if (!bytes.starts_with("skbtrail-record")) {
    json = !bytes.empty() && (bytes[0] & 1);
    if (!bytes.empty()) bytes.erase(0, 1);
    bytes.insert(0, "skbtrail-record 1 drop " + std::to_string(sizeof(skbtrail_drop_event)) + "\n");
  }
  fuzz::accept_or_refuse(
      [&] {
        const Recording recording = parse_recording(bytes, "fuzz.rec", "drop", sizeof(skbtrail_drop_event));
        DropReporter reporter(names, ValueNames(*format.symbolic_for("reason")), true, &rules);
        reporter.diagnose_with(&rules, false);
        reporter.capture_to(pcap, 128);
        Output out(json);
        StackMap stacks;
        reporter.begin(out);
        for (const auto& sample : recording.samples) {
          reporter.sample(0, sample, stacks, out);
          out.text().clear();  // what flush() would write
        }
        reporter.lost(0, 1, 3, out);
        reporter.end(out);
      },
      "fuzz.rec");
  return 0;
}
