# SPDX-License-Identifier: Apache-2.0
#
# Common part of the Cortex-M toolchain files (arm-none-eabi-gcc, bare metal). Do not use it directly: each
# cortex-*.cmake file sets TML_ARM_CPU_FLAGS and includes this one.
#
# Install the compiler with: apt-get install -y gcc-arm-none-eabi libnewlib-arm-none-eabi
# Set TML_ARM_TOOLCHAIN_DIR (cache or environment) to use a compiler that is not on PATH.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

if(NOT TML_ARM_TOOLCHAIN_DIR AND DEFINED ENV{TML_ARM_TOOLCHAIN_DIR})
  set(TML_ARM_TOOLCHAIN_DIR "$ENV{TML_ARM_TOOLCHAIN_DIR}")
endif()
if(TML_ARM_TOOLCHAIN_DIR)
  set(_tml_prefix "${TML_ARM_TOOLCHAIN_DIR}/arm-none-eabi-")
else()
  set(_tml_prefix "arm-none-eabi-")
endif()

set(CMAKE_C_COMPILER "${_tml_prefix}gcc")
set(CMAKE_ASM_COMPILER "${_tml_prefix}gcc")
set(CMAKE_AR "${_tml_prefix}ar" CACHE FILEPATH "Archiver")
set(CMAKE_RANLIB "${_tml_prefix}ranlib" CACHE FILEPATH "Ranlib")

# No linking during compiler checks: there is no startup code or linker script here.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# Code and data in their own sections so that the firmware link (--gc-sections) drops unused kernels.
set(CMAKE_C_FLAGS_INIT "${TML_ARM_CPU_FLAGS} -mthumb -ffunction-sections -fdata-sections")
set(CMAKE_ASM_FLAGS_INIT "${TML_ARM_CPU_FLAGS} -mthumb")

# Pass the CPU flags on to try_compile projects.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES TML_ARM_CPU_FLAGS TML_ARM_TOOLCHAIN_DIR)

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
