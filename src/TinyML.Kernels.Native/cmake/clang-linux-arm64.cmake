# SPDX-License-Identifier: Apache-2.0
# Toolchain file: the osx-arm64 library's compiler and baseline (clang 14, -mcpu=apple-m1, as osx-arm64.cmake) on
# linux-arm64, so that its code runs here under qemu-aarch64 (whose default CPU has the dot-product instructions):
# CTest and the conformance runner. Debian's aarch64 sysroot and binutils do the rest.
set(TML_CROSS_TRIPLE aarch64-linux-gnu)
set(TML_CROSS_PROCESSOR aarch64)
set(TML_CROSS_QEMU qemu-aarch64)
include("${CMAKE_CURRENT_LIST_DIR}/linux-gnu-cross.cmake")
set(CMAKE_C_COMPILER clang-14)
set(CMAKE_C_COMPILER_TARGET aarch64-linux-gnu)
set(CMAKE_C_FLAGS_INIT "-mcpu=apple-m1")
set(CMAKE_NM aarch64-linux-gnu-nm)
set(CMAKE_OBJCOPY aarch64-linux-gnu-objcopy)
