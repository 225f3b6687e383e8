# SPDX-License-Identifier: Apache-2.0
#
# Common part of the Linux cross toolchain files (Debian's gcc-<triple> packages). Do not use it directly: each
# linux-*.cmake file sets TML_CROSS_TRIPLE and TML_CROSS_PROCESSOR and includes this one. The shared library and the
# CTest programs are built; ctest runs them under qemu-user with the triple's Debian sysroot.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR "${TML_CROSS_PROCESSOR}")
set(CMAKE_C_COMPILER "${TML_CROSS_TRIPLE}-gcc")
set(CMAKE_FIND_ROOT_PATH "/usr/${TML_CROSS_TRIPLE}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR "${TML_CROSS_QEMU};-L;/usr/${TML_CROSS_TRIPLE}")
