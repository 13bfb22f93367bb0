#include "runner/bpf/object.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace skbtrail {

const BpfFunction* BpfObject::function(std::string_view name) const {
  for (const auto& f : functions)
    if (f.name == name) return &f;
  return nullptr;
}

const BpfTableSpec* BpfObject::table(std::string_view name) const {
  for (const auto& t : tables)
    if (t.name == name) return &t;
  return nullptr;
}

namespace {

constexpr std::string_view kMagic = "skbtrail-object\n";
constexpr uint32_t kFormat = 2;
// No single part of a sane file comes near these; they bound what a damaged
// or hostile file can make us allocate.
constexpr uint32_t kMaxString = 64u << 20;
constexpr uint32_t kMaxCount = 1u << 20;

class Writer {
 public:
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_ += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  void bytes(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    out_ += s;
  }
  std::string& text() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  uint32_t u32() {
    need(4);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += 4;
    return v;
  }
  std::string_view bytes() {
    const uint32_t n = u32();
    if (n > kMaxString) throw std::runtime_error("a field is impossibly long");
    need(n);
    const std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  uint32_t count() {
    const uint32_t n = u32();
    if (n > kMaxCount) throw std::runtime_error("a count is impossibly large");
    return n;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  void need(size_t n) const {
    if (in_.size() - pos_ < n) throw std::runtime_error("truncated");
  }
  std::string_view in_;
  size_t pos_ = 0;
};

uint32_t checksum(std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

}  // namespace

std::string serialize_object_file(const ObjectFile& file) {
  Writer w;
  w.u32(static_cast<uint32_t>(file.meta.size()));
  for (const auto& [key, value] : file.meta) {
    w.bytes(key);
    w.bytes(value);
  }
  const BpfObject& o = file.object;
  w.bytes(o.license);
  w.u32(o.kern_version);
  w.u32(static_cast<uint32_t>(o.tables.size()));
  for (const auto& t : o.tables) {
    w.bytes(t.name);
    for (const uint32_t v : {t.type, t.key_size, t.value_size, t.max_entries, t.flags}) w.u32(v);
  }
  w.u32(static_cast<uint32_t>(o.functions.size()));
  for (const auto& f : o.functions) {
    w.bytes(f.name);
    w.bytes(std::string_view(reinterpret_cast<const char*>(f.insns.data()), f.insns.size()));
    w.u32(static_cast<uint32_t>(f.relocations.size()));
    for (const auto& r : f.relocations) {
      w.u32(r.insn);
      w.u32(r.table);
    }
    w.u32(static_cast<uint32_t>(f.constants.size()));
    for (const auto& c : f.constants) {
      w.u32(c.insn);
      w.u32(c.placeholder);
    }
  }
  return frame_object_payload(w.text());
}

std::string frame_object_payload(std::string_view payload) {
  Writer out;
  out.text() = std::string(kMagic);
  out.u32(kFormat);
  out.bytes(payload);
  out.u32(checksum(payload));
  return std::move(out.text());
}

ObjectFile parse_object_file(std::string_view bytes) {
  if (!bytes.starts_with(kMagic)) throw std::runtime_error("not a skbtrail object file");
  Reader outer(bytes.substr(kMagic.size()));
  if (const uint32_t format = outer.u32(); format != kFormat)
    throw std::runtime_error(fmt::format("object format {} (this skbtrail reads format {})", format, kFormat));
  const std::string_view payload = outer.bytes();
  if (outer.u32() != checksum(payload)) throw std::runtime_error("checksum mismatch (the file is damaged)");
  if (!outer.done()) throw std::runtime_error("trailing bytes after the checksum");

  Reader r(payload);
  ObjectFile file;
  for (uint32_t i = 0, n = r.count(); i < n; ++i) {
    std::string key(r.bytes());
    file.meta[key] = std::string(r.bytes());
  }
  BpfObject& o = file.object;
  o.license = std::string(r.bytes());
  o.kern_version = r.u32();
  for (uint32_t i = 0, n = r.count(); i < n; ++i) {
    BpfTableSpec t;
    t.name = std::string(r.bytes());
    t.type = r.u32();
    t.key_size = r.u32();
    t.value_size = r.u32();
    t.max_entries = r.u32();
    t.flags = r.u32();
    o.tables.push_back(std::move(t));
  }
  for (uint32_t i = 0, n = r.count(); i < n; ++i) {
    BpfFunction f;
    f.name = std::string(r.bytes());
    // Names go into error messages and the kernel's program names: a damaged
    // file must not smuggle a newline or a terminal escape into either.
    if (f.name.empty() || !std::all_of(f.name.begin(), f.name.end(), [](unsigned char c) {
          return std::isgraph(c);
        }))
      throw std::runtime_error("a function name holds a space or a control character (the file is damaged)");
    const std::string_view insns = r.bytes();
    if (insns.size() % 8 != 0) throw std::runtime_error(fmt::format("function {}: instructions cut short", f.name));
    f.insns.assign(insns.begin(), insns.end());
    for (uint32_t k = 0, m = r.count(); k < m; ++k) {
      BpfRelocation rel{r.u32(), r.u32()};
      if (rel.table >= o.tables.size() || (uint64_t{rel.insn} + 2) * 8 > f.insns.size())
        throw std::runtime_error(fmt::format("function {}: a map reference points outside it", f.name));
      f.relocations.push_back(rel);
    }
    for (uint32_t k = 0, m = r.count(); k < m; ++k) {
      BpfConstantUse use{r.u32(), r.u32()};
      if ((uint64_t{use.insn} + 1) * 8 > f.insns.size())
        throw std::runtime_error(fmt::format("function {}: a constant points outside it", f.name));
      f.constants.push_back(use);
    }
    o.functions.push_back(std::move(f));
  }
  if (!r.done()) throw std::runtime_error("trailing bytes in the object");
  return file;
}

std::vector<std::pair<uint32_t, int32_t>> map_fd_loads(std::span<const uint8_t> insns) {
  // BPF_LD | BPF_IMM | BPF_DW (0x18) with src_reg BPF_PSEUDO_MAP_FD (1).
  // Matched by src_reg, never by imm: a constant can equal an fd.
  std::vector<std::pair<uint32_t, int32_t>> loads;
  for (size_t slot = 0; (slot + 1) * 8 <= insns.size(); ++slot) {
    const uint8_t* p = insns.data() + slot * 8;
    if (p[0] != 0x18) continue;
    if ((p[1] >> 4) == 1) {
      int32_t imm = 0;
      std::memcpy(&imm, p + 4, 4);
      loads.emplace_back(static_cast<uint32_t>(slot), imm);
    }
    ++slot;  // the second half of the 16-byte instruction
  }
  return loads;
}

std::vector<uint32_t> immediate_uses(std::span<const uint8_t> insns, uint32_t value) {
  std::vector<uint32_t> uses;
  for (size_t slot = 0; (slot + 1) * 8 <= insns.size(); ++slot) {
    const uint8_t* p = insns.data() + slot * 8;
    uint32_t imm = 0;
    std::memcpy(&imm, p + 4, 4);
    const uint8_t code = p[0], cls = code & 0x07, op = code & 0xf0;
    if (code == 0x18) {  // LD_IMM64: a constant only when src_reg is 0
      if ((p[1] >> 4) == 0 && imm == value && (slot + 2) * 8 <= insns.size()) {
        uint32_t high = 0;
        std::memcpy(&high, p + 12, 4);
        if (high == 0) uses.push_back(static_cast<uint32_t>(slot));
      }
      ++slot;
      continue;
    }
    const bool with_constant = (code & 0x08) == 0;  // BPF_K
    const bool jump = (cls == 0x05 || cls == 0x06) && op != 0x80 && op != 0x90;  // not call, not exit
    const bool alu = cls == 0x04 || cls == 0x07;
    if (with_constant && (jump || alu) && imm == value) uses.push_back(static_cast<uint32_t>(slot));
  }
  return uses;
}

void find_constant_uses(BpfObject& object, const std::vector<uint32_t>& placeholders) {
  for (const uint32_t placeholder : placeholders) {
    bool found = false;
    for (auto& f : object.functions)
      for (const uint32_t insn : immediate_uses(f.insns, placeholder)) {
        f.constants.push_back({insn, placeholder});
        found = true;
      }
    if (!found)
      throw std::runtime_error(fmt::format("the compiled program holds no immediate 0x{:08x} to bind at load time",
                                           placeholder));
  }
}

}  // namespace skbtrail
