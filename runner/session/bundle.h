// Bundles: a command's compiled program for one target kernel, in one file,
// with what it was built for: the command, the options that shape the
// program, the target's release and abilities and the tracepoint layouts it
// reads. `skbtrail bundle COMMAND ... -o FILE` writes one (compiling where
// headers and a compiler are); `skbtrail COMMAND --bundle FILE ...` runs it
// with no headers and no compiler, after checking that the kernel and the
// options are the ones it was built for.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "runner/bpf/object.h"
#include "runner/kernel/facts.h"
#include "runner/session/plan.h"

namespace skbtrail {

struct Bundle {
  std::string path;
  std::string command;   // "drop"
  std::string options;   // the options that shaped the program, as text (for messages)
  std::string release;   // the target kernel's
  std::string fingerprint;  // plan_fingerprint() of what was compiled
  KernelInfo target;     // release, version code, kprobes
  HeaderChoice headers;  // mode and btf flag (the plan depends on them)
  std::map<std::string, std::string> tracepoint_formats;  // "cat:event" -> format text
  BpfObject object;
};

// Throws UsageError naming the file: unreadable, not a bundle, damaged, or
// not private to root (see require_private).
Bundle read_bundle(const std::filesystem::path& path);
// A bundle file's bytes, read from `path` (named in errors). Throws
// UsageError: not an object file, damaged, or a cache entry.
Bundle parse_bundle(std::string_view bytes, const std::string& path);
// Writes it (mode 0600). Throws UsageError naming the file on failure.
void write_bundle(const std::filesystem::path& path, const Plan& plan, const KernelFacts& target,
                  const std::string& options, const BpfObject& object);

// The facts to plan with: the target as the bundle recorded it.
KernelFacts bundle_facts(const Bundle& bundle);

// Throws EnvironmentError with one line saying what differs when the bundle
// does not fit this run: another command, another kernel release, other
// options (a plan that does not match what was compiled), or tracepoint
// layouts the running kernel does not have.
void check_bundle_fits(const Bundle& bundle, const std::string& command, const std::string& options,
                       const Plan& plan, const KernelFacts& running);

}  // namespace skbtrail
