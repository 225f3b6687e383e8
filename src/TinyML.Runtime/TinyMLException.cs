// SPDX-License-Identifier: Apache-2.0
using System;

namespace TinyML.Runtime;

/// <summary>A runtime failure with its TML diagnostic code.</summary>
public sealed class TinyMLException : Exception
{
    /// <summary>Creates an exception with a TML code.</summary>
    public TinyMLException(string id, string message) : base($"{id}: {message}") => Id = id;

    /// <summary>The TML diagnostic code.</summary>
    public string Id { get; }
}
