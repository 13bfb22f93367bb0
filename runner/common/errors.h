// Errors the user can act on. main() prints what() as the single line after
// "skbtrail: " and exits with the code; nothing has been attached by then.
#pragma once

#include <stdexcept>
#include <string>

namespace skbtrail {

inline constexpr int kExitUsage = 2;    // bad input or an unusable environment
inline constexpr int kExitFailure = 1;  // something broke while running

// Bad command-line input: the message names the input and the fix.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The machine lacks something (headers, permission, tracefs): the message
// says what to install or change.
struct EnvironmentError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace skbtrail
