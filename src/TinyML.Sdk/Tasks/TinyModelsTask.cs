// SPDX-License-Identifier: Apache-2.0
using System;
using Microsoft.Build.Framework;

namespace TinyML.Sdk.Tasks;

/// <summary>The inputs every task over the <c>TinyModel</c> items shares: the items, the project and the
/// project-wide settings that item metadata overrides.</summary>
public abstract class TinyModelsTask : TinyMLTask
{
    /// <summary>The models.</summary>
    [Required]
    public ITaskItem[] Models { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The project file: relative paths start at its folder and diagnostics point at it.</summary>
    [Required]
    public string ProjectFile { get; set; } = "";

    /// <summary>Project-wide RAM budget (TinyMLRamBudget); item metadata RamBudget overrides it.</summary>
    public string? RamBudget { get; set; }

    /// <summary>The project-wide target core (TinyMLTarget); item metadata TargetCore overrides it.</summary>
    public string? Target { get; set; }

    /// <summary>A board preset (TinyMLBoard): default budgets from its memories, its core the default target.</summary>
    public string? Board { get; set; }
}
