# SPDX-License-Identifier: Apache-2.0
# Toolchain file: Arm Cortex-M33 with arm-none-eabi-gcc (FPv5-SP, DSP extension, hard float ABI). Produces the static library only.
set(TML_ARM_CPU_FLAGS "-mcpu=cortex-m33 -mfpu=fpv5-sp-d16 -mfloat-abi=hard")
include("${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-gcc.cmake")
