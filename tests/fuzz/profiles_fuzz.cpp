// Profiles (scripts/skbtrail.profiles, --profiles FILE) for skbtrail run.
#include <cstdint>

#include "runner/data/profiles.h"
#include "tests/fuzz/fuzz_input.h"

using namespace skbtrail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::accept_or_refuse(
      [&] {
        for (const auto& profile : parse_profiles(fuzz::text_of(data, size), "fuzz.profiles", {"drop", "rst", "trace"}))
          fuzz::require(!profile.name.empty() && !profile.command.empty(), "a profile without name or command");
      },
      "fuzz.profiles");
  return 0;
}
