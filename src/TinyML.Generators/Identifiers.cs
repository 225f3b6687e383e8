// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace TinyML.Generators;

/// <summary>Checks names from the manifest and makes C# identifiers out of tensor names and labels.</summary>
internal static class Identifiers
{
    /// <summary>A name usable as a type: a valid identifier and no keyword, reserved or contextual (var, record, file…).</summary>
    public static bool IsValidTypeName(string name) =>
        SyntaxFacts.IsValidIdentifier(name)
        && SyntaxFacts.GetKeywordKind(name) == SyntaxKind.None
        && SyntaxFacts.GetContextualKeywordKind(name) == SyntaxKind.None;

    /// <summary>Empty (the global namespace) or dot-separated identifiers that are not reserved keywords.</summary>
    public static bool IsValidNamespace(string name)
    {
        if (name.Length == 0) return true;
        string[] parts = name.Split('.');
        if (parts[0] == "global") return false;
        foreach (string part in parts)
        {
            if (!SyntaxFacts.IsValidIdentifier(part) || SyntaxFacts.GetKeywordKind(part) != SyntaxKind.None) return false;
        }
        return true;
    }

    /// <summary>
    /// PascalCase from the letters and digits of <paramref name="text"/>: every run of other characters separates
    /// words, and each word's first letter is capitalized ("serving_default_input:0" → "ServingDefaultInput0").
    /// A leading digit gets an underscore ("1x1" → "_1x1"). Returns "" when no valid identifier results.
    /// </summary>
    public static string ToPascalCase(string text)
    {
        var b = new StringBuilder(text.Length + 1);
        bool wordStart = true;
        foreach (char c in text)
        {
            if (!char.IsLetterOrDigit(c))
            {
                wordStart = true;
                continue;
            }
            b.Append(wordStart ? char.ToUpperInvariant(c) : c);
            wordStart = false;
        }
        if (b.Length == 0) return "";
        if (char.IsDigit(b[0])) b.Insert(0, '_');
        string result = b.ToString();
        return SyntaxFacts.IsValidIdentifier(result) && SyntaxFacts.GetKeywordKind(result) == SyntaxKind.None ? result : "";
    }

    /// <summary>
    /// Member names for the tensors of one side (inputs or outputs). One tensor is called <paramref name="single"/>;
    /// several take PascalCase names from the model, and fall back to {single}{index} when a name is empty or any
    /// member derived from it (<see cref="TensorMembers"/>) is already taken. Chosen names are added to <paramref name="taken"/>.
    /// </summary>
    public static string[] TensorNames(IReadOnlyList<string> names, string single, HashSet<string> taken)
    {
        var result = new string[names.Count];
        if (names.Count == 1)
        {
            result[0] = single;
            Claim(single, taken);
            return result;
        }
        var fallback = new List<int>();
        for (int i = 0; i < names.Count; i++)
        {
            string candidate = ToPascalCase(names[i]);
            if (candidate.Length > 0 && IsFree(candidate, taken))
            {
                result[i] = candidate;
                Claim(candidate, taken);
            }
            else
            {
                fallback.Add(i);
            }
        }
        foreach (int i in fallback)
        {
            string candidate = single + i.ToString(CultureInfo.InvariantCulture);
            for (int k = 2; !IsFree(candidate, taken); k++) candidate = single + i.ToString(CultureInfo.InvariantCulture) + "_" + k.ToString(CultureInfo.InvariantCulture);
            result[i] = candidate;
            Claim(candidate, taken);
        }
        return result;
    }

    /// <summary>Every member name a tensor called <paramref name="member"/> may produce.</summary>
    public static IEnumerable<string> TensorMembers(string member)
    {
        yield return member;
        yield return member + "Shape";
        yield return member + "Length";
        yield return member + "Scale";
        yield return member + "ZeroPoint";
        yield return "Set" + member;
        yield return "Get" + member;
    }

    private static bool IsFree(string member, HashSet<string> taken)
    {
        foreach (string name in TensorMembers(member))
        {
            if (taken.Contains(name)) return false;
        }
        return true;
    }

    private static void Claim(string member, HashSet<string> taken)
    {
        foreach (string name in TensorMembers(member)) taken.Add(name);
    }

    /// <summary>Enum member names for labels: PascalCase, unique, and Label{index} when that fails.</summary>
    public static string[] LabelNames(IReadOnlyList<string> labels)
    {
        var result = new string[labels.Count];
        var taken = new HashSet<string> { "value__" };
        var fallback = new List<int>();
        for (int i = 0; i < labels.Count; i++)
        {
            string candidate = ToPascalCase(labels[i]);
            if (candidate.Length > 0 && taken.Add(candidate)) result[i] = candidate;
            else fallback.Add(i);
        }
        foreach (int i in fallback)
        {
            string candidate = "Label" + i.ToString(CultureInfo.InvariantCulture);
            for (int k = 2; !taken.Add(candidate); k++) candidate = "Label" + i.ToString(CultureInfo.InvariantCulture) + "_" + k.ToString(CultureInfo.InvariantCulture);
            result[i] = candidate;
        }
        return result;
    }
}
