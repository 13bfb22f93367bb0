#include "runner/session/compile_cache.h"

#include <bcc/bcc_version.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "runner/bpf/program.h"
#include "runner/common/errors.h"
#include "runner/common/hash.h"
#include "runner/kernel/btf_tree.h"

namespace skbtrail {

namespace fs = std::filesystem;

void require_private(const fs::path& path, const char* what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;  // absent: it will be created private
  if (st.st_uid != 0)
    throw EnvironmentError(fmt::format("{} {} is owned by uid {}, not root: what it holds is loaded into the kernel "
                                       "(chown root {}, or use another)",
                                       what, path.string(), st.st_uid, path.string()));
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    throw EnvironmentError(fmt::format("{} {} can be written by others (mode {:o}): what it holds is loaded into the "
                                       "kernel (chmod go-w {}, or use another)",
                                       what, path.string(), st.st_mode & 07777, path.string()));
}

namespace {

std::string read_whole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return in ? std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()) : std::string();
}

// What the header tree is: its release and the files that fix its
// configuration and version. The BTF tree's directory name already holds a
// hash of the BTF.
std::string header_identity(const KernelFacts& facts) {
  const HeaderChoice& headers = facts.headers();
  if (headers.btf) return fmt::format("btf {}", headers.kernel_source.filename().string());
  const fs::path tree =
      headers.kernel_source.empty() ? fs::path(facts.kernel().headers_dir) : fs::path(headers.kernel_source);
  Fnv1a files;
  for (const char* file : {"include/generated/autoconf.h", "include/generated/uapi/linux/version.h",
                           "include/generated/utsrelease.h", "include/config/kernel.release"})
    files.add(read_whole(tree / file));
  return fmt::format("{} {} {} {}", headers.mode, header_tree_release(tree), fs::weakly_canonical(tree).string(),
                     files.hex());
}

}  // namespace

CompileCache::CompileCache(fs::path root) : dir_((root.empty() ? default_cache_root() : root) / "objects") {
  require_private(dir_.parent_path(), "cache directory");
  require_private(dir_, "cache directory");
}

std::string CompileCache::key_text(const Plan& plan, const KernelFacts& facts) {
  std::string key = fmt::format("skbtrail {}\nbcc {}\nprogram {}\nkernel {}\nheaders {}\n", SKBTRAIL_VERSION,
                                LIBBCC_VERSION, plan.program, facts.kernel().release, header_identity(facts));
  for (const auto& flag : compile_flags({plan.program, plan.cflags, facts.headers(), plan.source}))
    key += "cflag " + flag + "\n";
  if (facts.headers().version_code) key += fmt::format("version-code {}\n", *facts.headers().version_code);
  key += "source " + Fnv1a().add(plan.source).hex() + "\n";
  return key;
}

fs::path CompileCache::file_for(const std::string& key) const {
  return dir_ / (Fnv1a().add(key).hex() + ".obj");
}

std::optional<BpfObject> CompileCache::lookup(const std::string& key, std::string& note) const {
  const fs::path file = file_for(key);
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  require_private(file, "compile cache entry");
  try {
    ObjectFile entry = parse_object_file(read_whole(file));
    if (entry.meta["key"] != key) return std::nullopt;  // another key with the same hash
    return std::move(entry.object);
  } catch (const std::exception& e) {
    note = fmt::format("compile cache entry {} is damaged ({}): compiling again", file.string(), e.what());
    return std::nullopt;
  }
}

void CompileCache::store(const std::string& key, const BpfObject& object, std::string& note) const {
  std::error_code ec;
  if (!fs::exists(dir_, ec)) {
    const bool new_root = !fs::exists(dir_.parent_path(), ec);
    fs::create_directories(dir_, ec);
    if (new_root) ::chmod(dir_.parent_path().c_str(), 0755);
    ::chmod(dir_.c_str(), 0700);  // only root reads what root loads
  }
  ObjectFile entry;
  entry.meta["key"] = key;
  entry.object = object;
  const fs::path file = file_for(key);
  const fs::path tmp = file.string() + fmt::format(".tmp{}", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    const std::string bytes = serialize_object_file(entry);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      note = fmt::format("cannot write the compile cache in {} (read-only or full): not cached", dir_.string());
      fs::remove(tmp, ec);
      return;
    }
  }
  fs::rename(tmp, file, ec);  // atomic: a concurrent reader sees the old entry or the new one
  if (ec) {
    note = fmt::format("cannot store {} in the compile cache: {}", file.string(), ec.message());
    fs::remove(tmp, ec);
  }
}

std::vector<CompileCache::Entry> CompileCache::list() const {
  std::vector<Entry> entries;
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(dir_, ec)) {
    if (item.path().extension() != ".obj") continue;
    Entry e{item.path(), "?", "?", item.file_size(ec)};
    try {
      const ObjectFile file = parse_object_file(read_whole(item.path()));
      const std::string& key = file.meta.at("key");
      auto value = [&](const std::string& name) {
        const auto at = key.find("\n" + name + " ");
        return at == std::string::npos ? std::string("?")
                                        : key.substr(at + name.size() + 2, key.find('\n', at + 1) - at - name.size() - 2);
      };
      e.program = value("program");
      e.kernel = value("kernel");
    } catch (const std::exception&) {
      e.program = "(damaged)";
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

size_t CompileCache::clear() const {
  size_t removed = 0;
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(dir_, ec))
    if (item.path().extension() == ".obj" || item.path().string().find(".obj.tmp") != std::string::npos)
      removed += fs::remove(item.path(), ec) ? 1 : 0;
  return removed;
}

}  // namespace skbtrail
