// SPDX-License-Identifier: Apache-2.0
// netstandard2.0 lacks the type that records and init-only setters need.
namespace System.Runtime.CompilerServices
{
    internal static class IsExternalInit { }
}
