using System;
using System.Text;

namespace Jobs.Sdk.Generators.Helpers;

/// <summary>A small indenting writer for generated C# (LF line endings, four spaces).</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _builder = new();
    private int _indent;

    public int Indent
    {
        get => _indent;
        set => _indent = Math.Max(0, value);
    }

    public SourceWriter Line(string text = "")
    {
        if (text.Length > 0)
        {
            _builder.Append(' ', _indent * 4);
            _builder.Append(text);
        }

        _builder.Append('\n');
        return this;
    }

    /// <summary>Writes every line of a multi-line block at the current indentation.</summary>
    public SourceWriter Lines(string block)
    {
        foreach (var line in block.Replace("\r\n", "\n").Split('\n'))
        {
            Line(line);
        }

        return this;
    }

    public SourceWriter Open(string text)
    {
        Line(text);
        Line("{");
        _indent++;
        return this;
    }

    public SourceWriter Open() => Line("{").Do(() => _indent++);

    public SourceWriter Close(string suffix = "")
    {
        _indent--;
        return Line("}" + suffix);
    }

    private SourceWriter Do(Action action)
    {
        action();
        return this;
    }

    public override string ToString() => _builder.ToString();
}
