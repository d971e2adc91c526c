# Compiler settings shared by every s2 target.
#
# -ffp-contract=off: the firmware must give bit-identical results on Cortex-M4F and in the
# emulator's host build, so no fused multiply-add contraction anywhere (brief, principle 2).
add_library(s2_options INTERFACE)
target_compile_options(s2_options INTERFACE
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith
  -Wformat=2 -Wvla -ffp-contract=off)
if(S2_WERROR)
  target_compile_options(s2_options INTERFACE -Werror)
endif()
# s2_options_plain: the same warnings, never the sanitizers below: for the installable libs2,
# which other processes load (the Python binding into /usr/bin/python3, which has no ASan
# runtime); the in-tree static libs2 that every test links stays sanitized.
add_library(s2_options_plain INTERFACE)
target_compile_options(s2_options_plain INTERFACE
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith
  -Wformat=2 -Wvla -ffp-contract=off)
if(S2_WERROR)
  target_compile_options(s2_options_plain INTERFACE -Werror)
endif()
# The fuzz preset: coverage instrumentation and sanitizers on all our code, so libFuzzer sees
# inside the decoders (the harnesses add -fsanitize=fuzzer to link the fuzzer's main).
if(S2_FUZZ AND S2_PLATFORM STREQUAL "host")
  target_compile_options(s2_options INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  target_link_options(s2_options INTERFACE -fsanitize=address,undefined)
endif()
if(S2_SANITIZE AND S2_PLATFORM STREQUAL "host")
  target_compile_options(s2_options INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(s2_options INTERFACE -fsanitize=address,undefined)
endif()

# s2_warnings_relaxed: for generated sources (protobuf-c output) that we do not edit.
add_library(s2_options_generated INTERFACE)
target_compile_options(s2_options_generated INTERFACE -w -ffp-contract=off)
