# SPDX-License-Identifier: Apache-2.0
# Toolchain file: the osx-x64 library's compiler (clang 14, as osx-x64.cmake) on linux-x64, so that what only a
# clang build compiles (its target pragmas, the CPUID detection) runs here: CTest and the conformance runner.
set(CMAKE_C_COMPILER clang-14)
