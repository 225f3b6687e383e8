/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_abi.c: the per-core buffer sizes. Every `_get_buffer_size_for` answers for each TML_CORE_* id (today the
 * portable size on every core), refuses an unknown id and a NULL argument with -1, and the plain function answers
 * for TML_BUILD_CORE. The planner's side of these sizes is checked by the .NET ScratchSizeTests.
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
        ok &= TML_CHECK(tml_conv_s8_get_buffer_size_for(core, &conv, &in, &filter, &out) == none, "conv core %d", core);
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
        ok &= TML_CHECK(tml_abi_version() == TML_ABI_VERSION, "abi version");
        tml_test_record(ok, "plain functions answer for TML_BUILD_CORE");
    }
    return TML_TEST_SUMMARY("test_abi");
}
