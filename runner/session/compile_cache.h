// The compile cache: BCC's output kept per (program text, flags, headers,
// skbtrail and BCC versions), so a later run with the same key loads the
// program without compiling (runner/bpf/loader.h). Entries live in
// <cache dir>/objects/, are written to a temporary name and renamed (two
// runs filling one entry leave one whole entry), carry a checksum and their
// whole key (a damaged entry, or a hash collision, is compiled again).
//
// The cache runs as root and feeds the kernel: a cache directory that is not
// root's, or that others may write, is refused.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "runner/bpf/object.h"
#include "runner/kernel/facts.h"
#include "runner/session/plan.h"

namespace skbtrail {

// Refuses (EnvironmentError, naming it and the fix) a file or directory
// that is not owned by root or that group or others may write.
void require_private(const std::filesystem::path& path, const char* what);

class CompileCache {
 public:
  // root: --cache-dir, else $SKBTRAIL_CACHE_DIR, else /var/cache/skbtrail.
  explicit CompileCache(std::filesystem::path root);

  // Everything that changes the bytecode, as text (the entry stores it whole).
  static std::string key_text(const Plan& plan, const KernelFacts& facts);

  // The entry for key, or nullopt. A damaged entry is reported in note.
  std::optional<BpfObject> lookup(const std::string& key, std::string& note) const;
  // Writes the entry; a read-only or full disk is reported in note, not thrown.
  void store(const std::string& key, const BpfObject& object, std::string& note) const;

  struct Entry {
    std::filesystem::path file;
    std::string program;  // "drop.bpf.c"
    std::string kernel;   // the release it was compiled for
    uintmax_t bytes = 0;
  };
  std::vector<Entry> list() const;
  size_t clear() const;  // entries removed
  const std::filesystem::path& directory() const { return dir_; }

 private:
  std::filesystem::path file_for(const std::string& key) const;
  std::filesystem::path dir_;
};

}  // namespace skbtrail
