# SPDX-License-Identifier: Apache-2.0
# Toolchain file: osx-x64 (Intel Macs) with Debian's clang and lld; built and checked here, not run
# (darwin-cross.cmake). The AVX2 and SSE4.1 paths are chosen at run time, as on linux-x64.
set(TML_DARWIN_ARCH x86_64)
set(TML_DARWIN_MIN_OS 10.15)
set(TML_DARWIN_FLAGS "")
include("${CMAKE_CURRENT_LIST_DIR}/darwin-cross.cmake")
