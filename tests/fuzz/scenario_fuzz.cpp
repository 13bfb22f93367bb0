// Scenario files (tests/scenarios/*.scn), which the team and contributors write.
#include <cstdint>

#include "tests/fuzz/fuzz_input.h"
#include "tests/scenario_driver/scenario.h"

using namespace skbtrail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::accept_or_refuse([&] { (void)scenarios::parse_scenarios(fuzz::text_of(data, size), "fuzz.scn"); },
                         "fuzz.scn");
  return 0;
}
