// SPDX-License-Identifier: Apache-2.0
using System.Text;

namespace TinyML.Generators;

/// <summary>Writes C# source with four-space indentation and "\n" line ends (the same bytes on every OS).</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    /// <summary>Writes one line at the current indentation (an empty line has no indentation).</summary>
    public SourceWriter Line(string line = "")
    {
        if (line.Length > 0) _text.Append(' ', _indent * 4).Append(line);
        _text.Append('\n');
        return this;
    }

    /// <summary>Writes "{" and indents what follows.</summary>
    public SourceWriter Open(string header)
    {
        Line(header);
        Line("{");
        _indent++;
        return this;
    }

    /// <summary>Unindents and writes "}" (with an optional suffix such as ";").</summary>
    public SourceWriter Close(string suffix = "")
    {
        _indent--;
        return Line("}" + suffix);
    }

    /// <summary>Writes a one-line XML doc summary.</summary>
    public SourceWriter Summary(string text) => Line("/// <summary>" + text + "</summary>");

    /// <summary>Writes a multi-line XML doc element.</summary>
    public SourceWriter Doc(string element, params string[] lines)
    {
        Line("/// <" + element + ">");
        foreach (string l in lines) Line("/// " + l);
        return Line("/// </" + element.Split(' ')[0] + ">");
    }

    public override string ToString() => _text.ToString();
}
