// SPDX-License-Identifier: Apache-2.0
// Never runs: the model does not fit the 64 KB RAM budget, so the build stops with TML3001.
using BudgetExceeded;

using var model = new VisionModel();
model.Run();
