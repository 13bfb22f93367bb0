# Turns the BPF programs and data files into a C++ source so the binary carries them and
# runs from any directory. Invoked with -DOUT=... -DFILES="a|b|c".
string(REPLACE "|" ";" FILES "${FILES}")
set(body "// Generated from programs/ and scripts/ by cmake/embed.cmake: do not edit.\n#include \"resources/bundled.h\"\n\nnamespace skbtrail::resources {\n\nconst std::vector<BundledFile>& bundled_files() {\n  static const std::vector<BundledFile> files = {\n")
foreach(path IN LISTS FILES)
  file(READ "${path}" content)
  get_filename_component(name "${path}" NAME)
  string(APPEND body "    {\"${name}\", R\"skbtrail_embed(${content})skbtrail_embed\"},\n")
endforeach()
string(APPEND body "  };\n  return files;\n}\n\n}  // namespace skbtrail::resources\n")
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
