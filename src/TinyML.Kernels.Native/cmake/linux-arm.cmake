# SPDX-License-Identifier: Apache-2.0
# Toolchain file: linux-arm (32-bit Armv7, hard float, glibc; Raspberry Pi OS 32-bit) with Debian's
# gcc-arm-linux-gnueabihf; tests run under qemu-arm.
set(TML_CROSS_TRIPLE arm-linux-gnueabihf)
set(TML_CROSS_PROCESSOR arm)
set(TML_CROSS_QEMU qemu-arm)
include("${CMAKE_CURRENT_LIST_DIR}/linux-gnu-cross.cmake")
