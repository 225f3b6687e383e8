# SPDX-License-Identifier: Apache-2.0
# Toolchain file: osx-arm64 (Apple silicon) with Debian's clang and lld; built and checked here, not run
# (darwin-cross.cmake). Every Apple silicon Mac has the dot-product instructions, so the baseline is apple-m1.
set(TML_DARWIN_ARCH arm64)
set(TML_DARWIN_MIN_OS 11.0)
set(TML_DARWIN_FLAGS "-mcpu=apple-m1")
include("${CMAKE_CURRENT_LIST_DIR}/darwin-cross.cmake")
