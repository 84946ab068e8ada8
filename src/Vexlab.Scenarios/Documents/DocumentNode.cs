using Vexlab.Model.Configuration;

namespace Vexlab.Scenarios.Documents;

/// <summary>A node of a scenario document, with the place it was written and its dotted path.</summary>
public abstract class DocumentNode
{
    private protected DocumentNode(string file, int line, int column, string path)
    {
        File = file;
        Line = line;
        Column = column;
        Path = path;
    }

    /// <summary>File name, or a pseudo-name such as <c>builtin:postcopy</c>.</summary>
    public string File { get; }

    /// <summary>1-based line where the node starts.</summary>
    public int Line { get; }

    /// <summary>1-based column where the node starts.</summary>
    public int Column { get; }

    /// <summary>Dotted path such as <c>guest.apf.dummy_entries</c> or <c>tasks[1].pattern</c>; empty for the root.</summary>
    public string Path { get; }

    /// <summary>"a mapping", "a list" or "a scalar", for messages.</summary>
    public abstract string Description { get; }

    /// <summary>An error at this node's position naming its path.</summary>
    public InputException Error(string problem) =>
        InputException.At(File, Line, Column, Path.Length == 0 ? null : Path, problem);
}

/// <summary>A scalar as written (quotes removed).</summary>
public sealed class ScalarNode : DocumentNode
{
    internal ScalarNode(string file, int line, int column, string path, string value, bool isQuoted, bool isVerbatim = false)
        : base(file, line, column, path)
    {
        Value = value;
        IsQuoted = isQuoted;
        IsVerbatim = isVerbatim;
    }

    /// <summary>The text of the scalar, without quotes.</summary>
    public string Value { get; }

    /// <summary>True when the scalar was quoted or a block scalar.</summary>
    public bool IsQuoted { get; }

    /// <summary>
    /// True when <see cref="Value"/> is the source text character for character on the scalar's one line, after
    /// the opening quote if any: a plain or quoted scalar without escapes, line breaks or folding. Only then does
    /// character i of the value sit at column <see cref="DocumentNode.Column"/> + i (+ 1 for the quote).
    /// </summary>
    public bool IsVerbatim { get; }

    /// <summary>True for a plain empty value, <c>~</c> or <c>null</c>.</summary>
    public bool IsNull => !IsQuoted && Value is "" or "~" or "null" or "Null" or "NULL";

    public override string Description => IsNull ? "nothing" : "a scalar";
}

/// <summary>One key of a mapping and its value.</summary>
/// <param name="Key">The key, with its own position.</param>
/// <param name="Value">The value.</param>
public sealed record MappingEntry(ScalarNode Key, DocumentNode Value);

/// <summary>A YAML mapping; keys are unique.</summary>
public sealed class MappingNode : DocumentNode
{
    private readonly Dictionary<string, MappingEntry> _byKey;

    internal MappingNode(string file, int line, int column, string path, IReadOnlyList<MappingEntry> entries)
        : base(file, line, column, path)
    {
        Entries = entries;
        _byKey = entries.ToDictionary(e => e.Key.Value, StringComparer.Ordinal);
    }

    /// <summary>The entries in the order written.</summary>
    public IReadOnlyList<MappingEntry> Entries { get; }

    public override string Description => "a mapping";

    public bool TryGetValue(string key, out DocumentNode value)
    {
        if (_byKey.TryGetValue(key, out var entry))
        {
            value = entry.Value;
            return true;
        }

        value = null!;
        return false;
    }
}

/// <summary>A YAML sequence.</summary>
public sealed class SequenceNode : DocumentNode
{
    internal SequenceNode(string file, int line, int column, string path, IReadOnlyList<DocumentNode> items)
        : base(file, line, column, path)
    {
        Items = items;
    }

    /// <summary>The items in order.</summary>
    public IReadOnlyList<DocumentNode> Items { get; }

    public override string Description => "a list";
}
