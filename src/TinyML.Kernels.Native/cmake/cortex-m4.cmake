# SPDX-License-Identifier: Apache-2.0
# Toolchain file: Arm Cortex-M4 with arm-none-eabi-gcc (FPv4-SP, hard float ABI). Produces the static library only.
set(TML_ARM_CPU_FLAGS "-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard")
include("${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-gcc.cmake")
