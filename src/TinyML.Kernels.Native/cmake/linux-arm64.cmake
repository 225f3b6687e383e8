# SPDX-License-Identifier: Apache-2.0
# Toolchain file: linux-arm64 (AArch64, glibc) with Debian's gcc-aarch64-linux-gnu; tests run under qemu-aarch64.
set(TML_CROSS_TRIPLE aarch64-linux-gnu)
set(TML_CROSS_PROCESSOR aarch64)
set(TML_CROSS_QEMU qemu-aarch64)
include("${CMAKE_CURRENT_LIST_DIR}/linux-gnu-cross.cmake")
