// SPDX-License-Identifier: Apache-2.0
using System;

namespace TinyML.Device;

/// <summary>A device build or run failure with its TML diagnostic code.</summary>
public sealed class DeviceException : Exception
{
    /// <summary>Creates an exception with a TML code.</summary>
    public DeviceException(string id, string message) : base($"{id}: {message}") => Id = id;

    /// <summary>The TML diagnostic code.</summary>
    public string Id { get; }
}
