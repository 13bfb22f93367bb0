#include "symbolize/symbolize.h"

#include <algorithm>
#include <cstring>
#include <map>

#include <fmt/format.h>
#include <llvm/DebugInfo/DWARF/DWARFContext.h>
#include <llvm/DebugInfo/Symbolize/Symbolize.h>
#include <llvm/Object/ELFObjectFile.h>
#include <llvm/Object/ObjectFile.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/MemoryBuffer.h>

namespace skbtrail::symbolize {

namespace {

using llvm::object::ELFObjectFileBase;
using llvm::object::ObjectFile;

struct Symbol {
  std::string name;
  uint64_t address = 0;
  uint64_t elf_size = 0;
  uint64_t section_index = 0;
  bool code = false;  // FUNC, or NOTYPE in an executable section (asm labels)
};

struct SectionInfo {
  uint64_t address = 0;
  uint64_t size = 0;
  bool executable = false;
};

std::string error_text(llvm::Error error) { return llvm::toString(std::move(error)); }

class ElfImage final : public Image {
 public:
  explicit ElfImage(const std::string& path) : path_(path) {
    auto buffer = llvm::WritableMemoryBuffer::getFile(path);
    if (!buffer) throw SymbolizeError(fmt::format("{}: cannot read: {}", path, buffer.getError().message()));
    buffer_ = std::move(*buffer);
    if (buffer_->getBufferSize() >= 0x12 && std::memcmp(buffer_->getBufferStart(), "\x7f" "ELF", 4) != 0)
      throw SymbolizeError(fmt::format("{}: not an ELF file (pass a vmlinux or a .ko)", path));
    relocatable_ = patch_relocatable();
    auto object = ObjectFile::createObjectFile(buffer_->getMemBufferRef());
    if (!object) throw SymbolizeError(fmt::format("{}: {}", path, error_text(object.takeError())));
    object_ = std::move(*object);
    load_sections();
    load_symbols();
    if (symbols_.empty())
      throw SymbolizeError(fmt::format("{}: no symbol table (stripped? use the unstripped vmlinux from the -dbg package)",
                                       path));
    auto context = llvm::DWARFContext::create(*object_);
    has_debug_info_ = context && context->getNumCompileUnits() > 0;
    if (has_debug_info_) {
      if (auto* unit = context->getUnitAtIndex(0)) {
        const char* dir = unit->getCompilationDir();
        if (dir && *dir) comp_dir_ = std::string(dir) + "/";
      }
    }
    llvm::symbolize::LLVMSymbolizer::Options options;
    options.Demangle = false;
    options.RelativeAddresses = false;
    // Names of code without DWARF come from our own symbol table (the
    // enclosing FUNC, like addr2line), not LLVM's nearest-label guess.
    options.UseSymbolTable = false;
    symbolizer_ = std::make_unique<llvm::symbolize::LLVMSymbolizer>(options);
  }

  std::vector<Resolution> resolve(const FrameRef& frame, const Options& options) const override {
    std::vector<Resolution> out;
    std::vector<std::string> skipped;
    bool any = false;
    for (size_t i = 0; i < symbols_.size(); ++i) {
      const Symbol& s = symbols_[i];
      if (!s.code || s.name != frame.function) continue;
      any = true;
      const uint64_t size = symbol_size(i);
      if (frame.offset > size) {
        skipped.push_back(fmt::format("offset exceeds symbol size (0x{:x})", size));
        continue;
      }
      if (frame.size && *frame.size != size) {
        skipped.push_back(fmt::format("size mismatch (0x{:x} != 0x{:x})", *frame.size, size));
        continue;
      }
      const uint64_t address = s.address + frame.offset - (options.return_address && frame.offset > 0 ? 1 : 0);
      Resolution r;
      r.header = fmt::format("{}+{}/0x{:x}:", frame.function, frame.offset_text, size);
      r.chain = chain(address, s.section_index, s.name);
      out.push_back(std::move(r));
    }
    if (!any) throw SymbolizeError(fmt::format("{}: no symbol '{}' in {}", frame.function, frame.function, path_));
    if (out.empty())
      throw SymbolizeError(fmt::format("{}+{}{}: {}", frame.function, frame.offset_text,
                                       frame.size ? fmt::format("/0x{:x}", *frame.size) : std::string(),
                                       skipped.front()));
    return out;
  }

  Resolution resolve_address(uint64_t address, const Options& options) const override {
    // The code symbol that holds the address (largest start <= address).
    std::optional<size_t> best;
    for (size_t i = 0; i < symbols_.size(); ++i) {
      const Symbol& s = symbols_[i];
      if (!s.code || s.address > address) continue;
      if (address - s.address > symbol_size(i)) continue;
      if (!best || s.address > symbols_[*best].address) best = i;
    }
    if (!best) throw SymbolizeError(fmt::format("0x{:x}: not inside any function of {}", address, path_));
    const Symbol& s = symbols_[*best];
    const uint64_t offset = address - s.address;
    Resolution r;
    r.header = fmt::format("{}+0x{:x}/0x{:x}:", s.name, offset, symbol_size(*best));
    r.chain = chain(address - (options.return_address && offset > 0 ? 1 : 0), s.section_index, enclosing_function(*best));
    return r;
  }

  std::optional<uint64_t> text_address() const override { return text_address_; }
  bool has_debug_info() const override { return has_debug_info_; }
  std::string build_id() const override { return build_id_; }

 private:
  // LLVM 14/15 ignore the section index for names and inline chains of
  // ET_REL objects and do not relocate .debug_aranges: give every allocated
  // section its own address range and hide .debug_aranges (verified
  // workaround, see shared/notes/platform-facts.md).
  bool patch_relocatable() {
    char* base = buffer_->getBufferStart();
    const size_t size = buffer_->getBufferSize();
    if (size < sizeof(llvm::ELF::Elf64_Ehdr)) return false;
    auto* ehdr = reinterpret_cast<llvm::ELF::Elf64_Ehdr*>(base);
    if (ehdr->e_ident[llvm::ELF::EI_CLASS] != llvm::ELF::ELFCLASS64 || ehdr->e_type != llvm::ELF::ET_REL) return false;
    if (ehdr->e_shoff + uint64_t{ehdr->e_shnum} * sizeof(llvm::ELF::Elf64_Shdr) > size) return false;
    auto* sections = reinterpret_cast<llvm::ELF::Elf64_Shdr*>(base + ehdr->e_shoff);
    const auto& shstr = sections[ehdr->e_shstrndx];
    uint64_t next = 0x1000;
    for (unsigned i = 0; i < ehdr->e_shnum; ++i) {
      auto& sh = sections[i];
      if (sh.sh_name < shstr.sh_size) {
        char* name = base + shstr.sh_offset + sh.sh_name;
        if (std::strcmp(name, ".debug_aranges") == 0) std::memset(name, 0, std::strlen(name));
      }
      if (!(sh.sh_flags & llvm::ELF::SHF_ALLOC)) continue;
      const uint64_t align = std::max<uint64_t>(sh.sh_addralign, 1);
      next = (next + align - 1) / align * align;
      sh.sh_addr = next;
      next += std::max<uint64_t>(sh.sh_size, 1);
    }
    return true;
  }

  void load_sections() {
    for (const auto& section : object_->sections()) {
      SectionInfo info;
      info.address = section.getAddress();
      info.size = section.getSize();
      info.executable = section.isText();
      sections_[section.getIndex()] = info;
      if (auto name = section.getName(); name && *name == ".note.gnu.build-id") {
        if (auto contents = section.getContents()) build_id_ = parse_build_id(*contents);
      }
    }
  }

  static std::string parse_build_id(llvm::StringRef note) {
    if (note.size() < 16) return {};
    uint32_t namesz, descsz;
    std::memcpy(&namesz, note.data(), 4);
    std::memcpy(&descsz, note.data() + 4, 4);
    const size_t desc = 12 + ((namesz + 3) & ~3u);
    if (desc + descsz > note.size()) return {};
    std::string hex;
    for (size_t i = 0; i < descsz; ++i) hex += fmt::format("{:02x}", static_cast<uint8_t>(note[desc + i]));
    return hex;
  }

  void load_symbols() {
    const auto* elf = llvm::dyn_cast<ELFObjectFileBase>(object_.get());
    if (!elf) throw SymbolizeError(fmt::format("{}: not an ELF object", path_));
    for (const auto& symbol : elf->symbols()) {
      auto name = symbol.getName();
      auto address = symbol.getAddress();
      auto type = symbol.getType();
      if (!name || !address || !type) {
        if (!name) llvm::consumeError(name.takeError());
        if (!address) llvm::consumeError(address.takeError());
        if (!type) llvm::consumeError(type.takeError());
        continue;
      }
      if (*name == "_text") text_address_ = *address;
      if (name->empty() || name->startswith("$")) continue;  // mapping symbols
      if (*type == llvm::object::SymbolRef::ST_File || *type == llvm::object::SymbolRef::ST_Debug) continue;
      auto section = symbol.getSection();
      if (!section) {
        llvm::consumeError(section.takeError());
        continue;
      }
      if (*section == object_->section_end()) continue;  // undefined or absolute
      Symbol s;
      s.name = name->str();
      s.address = *address;
      s.elf_size = llvm::object::ELFSymbolRef(symbol).getSize();
      s.section_index = (*section)->getIndex();
      const uint8_t elf_type = llvm::object::ELFSymbolRef(symbol).getELFType();
      s.code = sections_[s.section_index].executable &&
               (elf_type == llvm::ELF::STT_FUNC || elf_type == llvm::ELF::STT_NOTYPE);
      symbols_.push_back(std::move(s));
    }
    std::stable_sort(symbols_.begin(), symbols_.end(), [](const Symbol& a, const Symbol& b) {
      return a.section_index != b.section_index ? a.section_index < b.section_index : a.address < b.address;
    });
  }

  // As faddr2line and kallsyms count it: the distance to the next symbol of
  // the section that is at least the ELF size away, else to the section end.
  uint64_t symbol_size(size_t index) const {
    const Symbol& s = symbols_[index];
    for (size_t j = index + 1; j < symbols_.size() && symbols_[j].section_index == s.section_index; ++j) {
      const uint64_t distance = symbols_[j].address - s.address;
      if (distance > 0 && distance >= s.elf_size) return distance;
    }
    const auto section = sections_.find(s.section_index);
    if (section == sections_.end()) return s.elf_size;
    return section->second.address + section->second.size - s.address;
  }

  // The FUNC symbol around a NOTYPE label (asm_func for asm_inner_label), as
  // addr2line names code without DWARF subprograms.
  std::string enclosing_function(size_t index) const {
    const Symbol& s = symbols_[index];
    for (size_t j = index; j-- > 0 && symbols_[j].section_index == s.section_index;) {
      const Symbol& candidate = symbols_[j];
      if (candidate.code && candidate.elf_size && s.address < candidate.address + candidate.elf_size) return candidate.name;
    }
    return s.name;
  }

  // fallback: the symbol's name, for code whose DWARF has no subprogram.
  std::vector<SourceLine> chain(uint64_t address, uint64_t section_index, const std::string& fallback) const {
    std::vector<SourceLine> out;
    auto info = symbolizer_->symbolizeInlinedCode(*object_, {address, section_index});
    if (!info) {
      llvm::consumeError(info.takeError());
      out.push_back({fallback, "??", 0, 0});
      return out;
    }
    for (uint32_t i = 0; i < info->getNumberOfFrames(); ++i) {
      const auto& frame = info->getFrame(i);
      SourceLine line;
      line.function = frame.FunctionName == llvm::DILineInfo::BadString ? (i == 0 ? fallback : "??") : frame.FunctionName;
      line.file = frame.FileName == llvm::DILineInfo::BadString ? "??" : strip_prefix(frame.FileName);
      line.line = frame.Line;
      line.discriminator = frame.Discriminator;
      out.push_back(std::move(line));
    }
    if (out.empty()) out.push_back({fallback, "??", 0, 0});
    return out;
  }

  std::string strip_prefix(std::string file) const {
    if (!comp_dir_.empty() && file.starts_with(comp_dir_)) file.erase(0, comp_dir_.size());
    while (file.starts_with("./")) file.erase(0, 2);
    return file;
  }

  std::string path_;
  std::unique_ptr<llvm::WritableMemoryBuffer> buffer_;
  std::unique_ptr<ObjectFile> object_;
  std::unique_ptr<llvm::symbolize::LLVMSymbolizer> symbolizer_;
  std::map<uint64_t, SectionInfo> sections_;
  std::vector<Symbol> symbols_;
  std::optional<uint64_t> text_address_;
  std::string comp_dir_;
  std::string build_id_;
  bool relocatable_ = false;
  bool has_debug_info_ = false;
};

}  // namespace

std::unique_ptr<Image> Image::open(const std::string& path) { return std::make_unique<ElfImage>(path); }

}  // namespace skbtrail::symbolize
