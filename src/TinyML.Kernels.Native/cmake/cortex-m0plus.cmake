# SPDX-License-Identifier: Apache-2.0
# Toolchain file: Arm Cortex-M0+ with arm-none-eabi-gcc (no FPU, soft float). Produces the static library only.
set(TML_ARM_CPU_FLAGS "-mcpu=cortex-m0plus -mfloat-abi=soft")
include("${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-gcc.cmake")
