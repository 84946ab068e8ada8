using System.Globalization;
using Vexlab.Model.Configuration;
using Vexlab.Scenarios.Files;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Vexlab.Scenarios.Documents;

/// <summary>
/// A parsed scenario file: a tree of <see cref="DocumentNode"/>s that each know their file, line,
/// column and dotted path. Malformed YAML, duplicate keys, aliases and non-mapping roots are
/// reported as one-line <see cref="InputException"/>s.
/// </summary>
public sealed class ScenarioDocument
{
    private ScenarioDocument(string file, MappingNode root)
    {
        File = file;
        Root = root;
    }

    /// <summary>File name or pseudo-name (<c>builtin:postcopy</c>).</summary>
    public string File { get; }

    /// <summary>The top-level mapping (empty for an empty document).</summary>
    public MappingNode Root { get; }

    /// <summary>Reads and parses a scenario file (bounded by <see cref="InputLimits"/>).</summary>
    public static ScenarioDocument Load(string path, string what = "scenario file") =>
        Parse(InputFile.ReadText(path, what), ErrorText.Path(path), what, allowEmpty: false);

    /// <summary>Parses YAML text; <paramref name="file"/> names it in messages (e.g. <c>builtin:postcopy</c>).</summary>
    /// <remarks>
    /// Text holding a NUL is refused. An empty document or a lone <c>null</c> is an empty mapping
    /// only when <paramref name="allowEmpty"/> (layers built in code); a file read from disk that
    /// is empty is a mistake (a truncated copy, a wrong file), never a scenario.
    /// </remarks>
    public static ScenarioDocument Parse(string yaml, string file, string what = "scenario file", bool allowEmpty = true)
    {
        var nul = yaml.IndexOf('\0', StringComparison.Ordinal);
        if (nul >= 0)
        {
            var (line, column) = InputFile.Place(yaml, nul);
            throw InputException.At(file, line, column, null, $"the {what} holds a NUL byte; it is not a text file");
        }

        var reader = new Reader(yaml, file, what, InputLimits.MaxDepth, allowEmpty);
        var parser = new Parser(new StringReader(yaml));
        try
        {
            return new ScenarioDocument(file, reader.ReadStream(parser));
        }
        catch (YamlException e)
        {
            var (line, column) = (ToInt(e.Start.Line), ToInt(e.Start.Column));

            // YamlDotNet places a tab in the indentation where the mapping or scalar it was scanning starts (1:1
            // for a tab on line 2, or the end of the line before); the tab itself is the place to name.
            if (e.Message.Contains(" tab ", StringComparison.Ordinal) && e.Message.Contains("indentation", StringComparison.Ordinal) && FirstIndentTab(yaml) is { } tab)
            {
                (line, column) = tab;
            }

            throw InputException.At(file, line, column, null, "malformed YAML: " + YamlMessage(e));
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this, not a YamlException, on some malformed plain scalars
            // (a lone CR inside a flow collection): the last event read is the nearest place known.
            var near = parser.Current;
            throw InputException.At(
                file, near is null ? 1 : ToInt(near.End.Line), near is null ? 1 : ToInt(near.End.Column), null,
                "malformed YAML: the scanner cannot read the text after this point");
        }
    }

    /// <summary>The 1-based line and column of the first tab among a line's leading blanks, or null.</summary>
    private static (int Line, int Column)? FirstIndentTab(string yaml)
    {
        var line = 1;
        var column = 1;
        var leading = true;
        foreach (var c in yaml)
        {
            if (c == '\n')
            {
                line++;
                column = 1;
                leading = true;
                continue;
            }

            if (leading && c == '\t')
            {
                return (line, column);
            }

            leading &= c == ' ';
            column++;
        }

        return null;
    }

    private static int ToInt(long value) => (int)Math.Clamp(value, 0, int.MaxValue);

    private static string YamlMessage(YamlException e)
    {
        // YamlDotNet prefixes "(Line: 1, Col: 2, Idx: 3) - (Line: ...): "; the position is reported separately.
        var message = e.Message;
        if (message.StartsWith('('))
        {
            var cut = message.IndexOf("): ", StringComparison.Ordinal);
            if (cut > 0)
            {
                message = message[(cut + 3)..];
            }
        }

        message = ErrorText.OneLine(message).TrimEnd('.');
        return message.Length == 0 ? "the YAML parser failed" : message;
    }

    private sealed class Reader(string yaml, string file, string what, int maxDepth, bool allowEmpty)
    {
        /// <summary>Where each line of the text starts, found on the first key that needs it.</summary>
        private List<int>? _lineStarts;

        public MappingNode ReadStream(Parser parser)
        {
            // The parser starts before the first event.
            parser.MoveNext();
            Take<StreamStart>(parser);
            if (parser.Current is StreamEnd)
            {
                if (allowEmpty)
                {
                    return Empty(1, 1);
                }

                throw InputException.At(file, 1, 1, null, $"the {what} is empty; write at least one key");
            }

            var start = Take<DocumentStart>(parser);
            MappingNode root;
            if (parser.Current is DocumentEnd && !allowEmpty)
            {
                throw InputException.At(file, Line(start), Column(start), null, $"the {what} is empty; write at least one key");
            }
            else if (parser.Current is DocumentEnd)
            {
                root = Empty(Line(start), Column(start));
            }
            else
            {
                var node = ReadNode(parser, string.Empty, 1);
                if (node is ScalarNode { IsNull: true } && allowEmpty)
                {
                    root = Empty(node.Line, node.Column);
                }
                else if (node is ScalarNode { IsNull: true })
                {
                    throw node.Error($"the {what} is an empty (null) document; write at least one key");
                }
                else if (node is MappingNode mapping)
                {
                    root = mapping;
                }
                else
                {
                    throw node.Error($"the {what} must be a mapping of keys, got {node.Description}");
                }
            }

            Take<DocumentEnd>(parser);
            if (parser.Current is DocumentStart next)
            {
                throw InputException.At(file, Line(next), Column(next), null, $"the {what} holds one YAML document, found a second");
            }

            return root;
        }

        private MappingNode Empty(int line, int column) => new(file, line, column, string.Empty, []);

        private static T Take<T>(Parser parser)
            where T : ParsingEvent
        {
            if (parser.Current is not T current)
            {
                var found = parser.Current;
                throw found is null
                    ? new YamlException("unexpected end of the YAML stream")
                    : new YamlException(found.Start, found.End, $"unexpected {found.GetType().Name}");
            }

            parser.MoveNext();
            return current;
        }

        private DocumentNode ReadNode(Parser parser, string path, int depth)
        {
            var current = parser.Current ?? throw new YamlException("unexpected end of the YAML stream");
            if (depth > maxDepth && current is SequenceStart or MappingStart)
            {
                // One frame per level: bounded here, so 100,000 '[' end in this line, not a stack overflow.
                throw InputException.At(
                    file, Line(current), Column(current), null,
                    string.Create(CultureInfo.InvariantCulture,
                        $"nested deeper than {maxDepth} levels; set {InputLimits.MaxDepthVariable} to raise the limit"));
            }

            switch (current)
            {
                case Scalar scalar:
                    parser.MoveNext();
                    return new ScalarNode(
                        file, Line(scalar), Column(scalar), path, scalar.Value, scalar.Style is not ScalarStyle.Plain, IsVerbatim(scalar));
                case SequenceStart:
                    return ReadSequence(parser, path, depth);
                case MappingStart:
                    return ReadMapping(parser, path, depth);
                case AnchorAlias alias:
                    throw InputException.At(
                        file, Line(alias), Column(alias), path.Length == 0 ? null : path,
                        $"aliases (*{alias.Value}) are not supported; write the value out");
                default:
                    throw new YamlException(current.Start, current.End, $"unexpected {current.GetType().Name}");
            }
        }

        private SequenceNode ReadSequence(Parser parser, string path, int depth)
        {
            var start = Take<SequenceStart>(parser);
            var items = new List<DocumentNode>();
            while (parser.Current is not SequenceEnd)
            {
                var itemPath = path + "[" + items.Count.ToString(CultureInfo.InvariantCulture) + "]";
                items.Add(ReadNode(parser, itemPath, depth + 1));
            }

            parser.MoveNext();
            return new SequenceNode(file, Line(start), Column(start), path, items);
        }

        private MappingNode ReadMapping(Parser parser, string path, int depth)
        {
            var start = Take<MappingStart>(parser);
            var block = start.Style is not MappingStyle.Flow;
            var entries = new List<MappingEntry>();
            var seen = new Dictionary<string, ScalarNode>(StringComparer.Ordinal);
            while (parser.Current is not MappingEnd)
            {
                var keyEvent = parser.Current ?? throw new YamlException("unexpected end of the YAML stream");
                if (keyEvent is not Scalar keyScalar)
                {
                    throw InputException.At(
                        file, Line(keyEvent), Column(keyEvent), path.Length == 0 ? null : path,
                        "a key must be a plain name, not a mapping or a list");
                }

                if (block)
                {
                    RefuseTabIndent(keyScalar);
                }

                parser.MoveNext();
                var name = keyScalar.Value;
                var keyPath = path.Length == 0 ? name : path + "." + name;
                var key = new ScalarNode(file, Line(keyScalar), Column(keyScalar), keyPath, name, keyScalar.Style is not ScalarStyle.Plain);
                if (name.Length == 0)
                {
                    throw key.Error("empty key");
                }

                if (seen.TryGetValue(name, out var first))
                {
                    throw key.Error(string.Create(
                        CultureInfo.InvariantCulture,
                        $"duplicate key (first defined at line {first.Line}, column {first.Column})"));
                }

                seen.Add(name, key);
                entries.Add(new MappingEntry(key, ReadNode(parser, keyPath, depth + 1)));
            }

            parser.MoveNext();
            return new MappingNode(file, Line(start), Column(start), path, entries);
        }

        /// <summary>
        /// Refuses a block mapping's key whose line is indented with a tab. YAML indents with spaces only (YAML 1.2.2
        /// section 6.1, "tab characters must not be used in indentation"; a block mapping's entries start with
        /// s-indent, spaces, 8.2.2), and a tab is separation only inside a line or a flow collection. YamlDotNet
        /// refuses such a tab on most lines, but takes <c>\tname: x</c> on the document's first line as the root
        /// mapping indented by it, so the file read as if the tab were not there.
        /// </summary>
        private void RefuseTabIndent(Scalar key)
        {
            var line = Line(key);
            _lineStarts ??= LineStarts(yaml);
            if (line < 1 || line > _lineStarts.Count)
            {
                return;
            }

            var from = _lineStarts[line - 1];
            for (var i = from; i < yaml.Length && yaml[i] is ' ' or '\t'; i++)
            {
                if (yaml[i] == '\t' && i - from + 1 < Column(key))
                {
                    throw InputException.At(
                        file, line, i - from + 1, null,
                        "malformed YAML: a tab in the indentation; YAML indents with spaces only (YAML 1.2.2 section 6.1)");
                }
            }
        }

        private static List<int> LineStarts(string text)
        {
            var starts = new List<int> { 0 };
            for (var i = 0; i < text.Length; i++)
            {
                if (text[i] == '\n')
                {
                    starts.Add(i + 1);
                }
            }

            return starts;
        }

        /// <summary>
        /// Whether the scalar's value is its source text: one line, plain or quoted, and as long as the span between
        /// its quotes (an escape such as <c>\x41</c> or <c>''</c>, a block scalar or a folded line break makes the
        /// value differ from the text, so a column counted along the value would point elsewhere).
        /// </summary>
        private static bool IsVerbatim(Scalar scalar)
        {
            var quotes = scalar.Style switch
            {
                ScalarStyle.Plain => 0,
                ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted => 2,
                _ => -1,
            };
            return quotes >= 0 && scalar.Start.Line == scalar.End.Line && scalar.End.Column - scalar.Start.Column == scalar.Value.Length + quotes;
        }

        private static int Line(ParsingEvent e) => ToInt(e.Start.Line);

        private static int Column(ParsingEvent e) => ToInt(e.Start.Column);
    }
}
