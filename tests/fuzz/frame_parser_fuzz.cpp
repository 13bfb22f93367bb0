// symbolize's input: frames given as arguments ("tcp_v4_rcv+0x8c/0x1a0",
// "0xffffffff81a2b3c4") and text read from `-` (a dmesg oops, a stack
// printed by skbtrail), in which every frame found must lie inside the line.
#include <cstdint>
#include <string_view>

#include "symbolize/symbolize.h"
#include "tests/fuzz/fuzz_input.h"

using namespace skbtrail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::text_of(data, size);
  if (auto frame = symbolize::parse_frame(text))
    fuzz::require(!frame->function.empty() || frame->address, "a frame with neither function nor address");
  for (const auto& found : symbolize::find_frames(text))
    fuzz::require(found.begin < found.end && found.end <= text.size() && !found.ref.function.empty(),
                  "a frame found outside its text, or without a function");
  return 0;
}
