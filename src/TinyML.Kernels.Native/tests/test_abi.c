/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_abi.c: the per-core buffer sizes. Every `_get_buffer_size_for` answers for each TML_CORE_* id (the portable
 * size, except conv's patches on the DSP cores M4, M7, M33, M55), refuses an unknown id and a NULL argument with -1,
 * and the plain function answers for TML_BUILD_CORE. The planner's side of these sizes is checked by the .NET
 * ScratchSizeTests.
 */
#include "tml_kernels.h"
#include "tml_test.h"

int main(void)
{
    const tml_conv_params conv = {0, 0, 1, 1, 1, 1, 0, 0, -128, 127};
    const tml_depthwise_conv_params dw = {0, 0, 1, 1, 1, 1, 0, 0, 1, -128, 127};
    const tml_fully_connected_params fc = {0, 0, 0, -128, 127, 0};
    const tml_pool_params pool = {1, 1, 2, 2, 0, 0, -128, 127};
    const tml_mean_params mean = {1, 4, 3, 0, 0, {1 << 30, 0}};
    const tml_svdf_params svdf = {2, 5, 6, 2, 4, 0, 0, 0, 1 << 30, 0, 1 << 30, 0};
    const tml_dims in = {2, 5, 7, 3}, filter = {3, 3, 3, 3}, out = {2, 5, 7, 3};
    for (int32_t core = -1; core <= TML_CORES; core++) {
        const int known = core >= 0 && core < TML_CORES;
        const int32_t none = known ? 0 : -1;
        int ok = 1;
        /* DSP cores: two int16 patches of the 27-tap window, each rounded up to an even count of taps. */
        const int dsp = core == TML_CORE_CORTEX_M4 || core == TML_CORE_CORTEX_M7 || core == TML_CORE_CORTEX_M33 ||
                        core == TML_CORE_CORTEX_M55;
        ok &= TML_CHECK(tml_conv_s8_get_buffer_size_for(core, &conv, &in, &filter, &out) == (dsp ? 2 * 28 * 2 : none),
                        "conv core %d", core);
        /* No patches: pointwise, grouped, or a window over 144 taps. */
        const tml_dims pointwise = {3, 1, 1, 3}, grouped = {3, 3, 3, 1}, wide_in = {1, 5, 7, 17}, wide = {3, 3, 3, 17};
        ok &= TML_CHECK(tml_conv_s8_get_buffer_size_for(core, &conv, &in, &pointwise, &out) == none, "1x1 core %d",
                        core);
        ok &= TML_CHECK(tml_conv_s8_get_buffer_size_for(core, &conv, &in, &grouped, &out) == none, "grouped core %d",
                        core);
        ok &= TML_CHECK(tml_conv_s8_get_buffer_size_for(core, &conv, &wide_in, &wide, &out) == none, "153 taps core %d",
                        core);
        ok &= TML_CHECK(tml_depthwise_conv_s8_get_buffer_size_for(core, &dw, &in, &filter, &out) == none, "dw core %d",
                        core);
        ok &= TML_CHECK(tml_depthwise_conv_s8_inplace_get_buffer_size_for(core, &dw, &in, &filter, &out) ==
                            (known ? 2 * 5 * 7 : -1),
                        "dw in place core %d", core);
        ok &= TML_CHECK(tml_fully_connected_s8_get_buffer_size_for(core, &fc, 2, 8, 4) == none, "fc core %d", core);
        ok &= TML_CHECK(tml_avg_pool_s8_get_buffer_size_for(core, &pool, &in, &out) == none, "pool core %d", core);
        ok &= TML_CHECK(tml_mean_s8_get_buffer_size_for(core, &mean) == none, "mean core %d", core);
        /* 4 bytes * batches * (num_filters + num_filters / rank) */
        ok &= TML_CHECK(tml_svdf_s8_get_buffer_size_for(core, &svdf) == (known ? 4 * 2 * (6 + 3) : -1), "svdf core %d",
                        core);
        if (known) {
            ok &= TML_CHECK(tml_conv_s8_get_buffer_size_for(core, NULL, &in, &filter, &out) == -1, "conv NULL");
            ok &= TML_CHECK(tml_depthwise_conv_s8_inplace_get_buffer_size_for(core, &dw, NULL, &filter, &out) == -1,
                            "dw in place NULL");
            ok &= TML_CHECK(tml_fully_connected_s8_get_buffer_size_for(core, NULL, 2, 8, 4) == -1, "fc NULL");
            ok &= TML_CHECK(tml_avg_pool_s8_get_buffer_size_for(core, &pool, &in, NULL) == -1, "pool NULL");
            ok &= TML_CHECK(tml_mean_s8_get_buffer_size_for(core, NULL) == -1, "mean NULL");
            ok &= TML_CHECK(tml_svdf_s8_get_buffer_size_for(core, NULL) == -1, "svdf NULL");
        }
        tml_test_record(ok, "buffer sizes for one core");
    }
    {
        int ok = TML_CHECK(tml_svdf_s8_get_buffer_size(&svdf) == tml_svdf_s8_get_buffer_size_for(TML_BUILD_CORE, &svdf),
                           "plain svdf");
        ok &= TML_CHECK(tml_depthwise_conv_s8_inplace_get_buffer_size(&dw, &in, &filter, &out) ==
                            tml_depthwise_conv_s8_inplace_get_buffer_size_for(TML_BUILD_CORE, &dw, &in, &filter, &out),
                        "plain dw in place");
        ok &= TML_CHECK(tml_conv_s8_get_buffer_size(&conv, &in, &filter, &out) ==
                            tml_conv_s8_get_buffer_size_for(TML_BUILD_CORE, &conv, &in, &filter, &out),
                        "plain conv");
        ok &= TML_CHECK(tml_abi_version() == TML_ABI_VERSION, "abi version");
        tml_test_record(ok, "plain functions answer for TML_BUILD_CORE");
    }
    return TML_TEST_SUMMARY("test_abi");
}
