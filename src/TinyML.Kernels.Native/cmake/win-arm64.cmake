# SPDX-License-Identifier: Apache-2.0
# Toolchain file: win-arm64 (Windows on Arm) with Debian's clang and lld; built and checked here, not run (nothing
# runs ARM64 Windows code here). Without a MinGW for arm64, the DLL links no C runtime: it imports its C functions
# from ucrtbase.dll and IsProcessorFeaturePresent from kernel32.dll through import libraries llvm-dlltool makes
# from cmake/sdk-stubs/windows/*.def, and src/host/win_arm64_crt.c supplies the entry point and __chkstk.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR ARM64)
find_program(TML_CLANG NAMES clang-14 clang REQUIRED)
set(CMAKE_C_COMPILER "${TML_CLANG}")
set(CMAKE_C_COMPILER_TARGET aarch64-w64-mingw32)
set(CMAKE_C_FLAGS_INIT "-nostdlibinc -isystem ${CMAKE_CURRENT_LIST_DIR}/sdk-stubs/usr/include -fno-stack-protector -DTML_WINDOWS_NO_CRT=1")
find_program(TML_LLD NAMES ld.lld-14 ld.lld REQUIRED)
set(CMAKE_SHARED_LINKER_FLAGS_INIT "--ld-path=${TML_LLD} -nostdlib -Wl,--entry,DllMainCRTStartup -Wno-unused-command-line-argument")
# Not CMake's default list of Windows libraries: only the import libraries below.
set(CMAKE_C_STANDARD_LIBRARIES "" CACHE STRING "Libraries linked by default with all C applications")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
# The baseline is Armv8.0; the dot-product path is compiled for Armv8.2 + dotprod and chosen at run time.
set(TML_DOTPROD_COMPILE_OPTIONS "-march=armv8.2-a+dotprod")
set(TML_WINDOWS_IMPORT_DEFS "${CMAKE_CURRENT_LIST_DIR}/sdk-stubs/windows/ucrtbase.def"
                            "${CMAKE_CURRENT_LIST_DIR}/sdk-stubs/windows/kernel32.def")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
