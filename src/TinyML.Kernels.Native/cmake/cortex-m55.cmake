# SPDX-License-Identifier: Apache-2.0
# Toolchain file: Arm Cortex-M55 with arm-none-eabi-gcc (Helium MVE + FP via -mfpu=auto, hard float ABI). Produces the static library only.
set(TML_ARM_CPU_FLAGS "-mcpu=cortex-m55 -mfpu=auto -mfloat-abi=hard")
include("${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-gcc.cmake")
