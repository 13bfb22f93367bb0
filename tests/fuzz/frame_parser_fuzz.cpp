// libFuzzer target for the frame parser: any bytes, no crash, and every frame
// found in a line lies inside it. Build with clang:
//   cmake -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DSKBTRAIL_FUZZ=ON
//   cmake --build build-fuzz --target frame_parser_fuzz
//   build-fuzz/tests/frame_parser_fuzz -max_total_time=60
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "symbolize/symbolize.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto frame = skbtrail::symbolize::parse_frame(text)) {
    if (frame->function.empty() && !frame->address) std::abort();
  }
  for (const auto& found : skbtrail::symbolize::find_frames(text))
    if (found.begin >= found.end || found.end > text.size() || found.ref.function.empty()) std::abort();
  return 0;
}
