# SPDX-License-Identifier: Apache-2.0
#
# Common part of the macOS toolchain files: Debian's clang and lld (ld64.lld) emit and link Mach-O; the SDK they
# would need is the few declarations and the libSystem stub in sdk-stubs/ (its README.md). Each osx-*.cmake
# sets TML_DARWIN_ARCH, TML_DARWIN_MIN_OS and TML_DARWIN_FLAGS and includes this one. Only the shared library is
# built: nothing Mach-O runs here (docs/platforms.md says what is checked instead).
set(CMAKE_SYSTEM_NAME Darwin)
set(CMAKE_SYSTEM_PROCESSOR "${TML_DARWIN_ARCH}")
find_program(TML_CLANG NAMES clang-14 clang REQUIRED)
set(CMAKE_C_COMPILER "${TML_CLANG}")
set(CMAKE_C_COMPILER_TARGET "${TML_DARWIN_ARCH}-apple-macos${TML_DARWIN_MIN_OS}")
set(CMAKE_OSX_SYSROOT "${CMAKE_CURRENT_LIST_DIR}/sdk-stubs")
set(CMAKE_OSX_ARCHITECTURES "${TML_DARWIN_ARCH}")
set(CMAKE_OSX_DEPLOYMENT_TARGET "${TML_DARWIN_MIN_OS}")
set(CMAKE_C_FLAGS_INIT "${TML_DARWIN_FLAGS}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-fuse-ld=lld")
# No program links without a real SDK (its crt and libSystem), so CMake checks the compiler on a static library.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH "${CMAKE_OSX_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
