using System.Globalization;
using Vexlab.Model.Configuration;
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

    /// <summary>Reads and parses a scenario file.</summary>
    public static ScenarioDocument Load(string path)
    {
        string text;
        try
        {
            text = System.IO.File.ReadAllText(path);
        }
        catch (IOException e)
        {
            throw InputException.At(path, 0, 0, null, "cannot read the scenario file: " + ErrorText.OneLine(e.Message));
        }
        catch (UnauthorizedAccessException e)
        {
            throw InputException.At(path, 0, 0, null, "cannot read the scenario file: " + ErrorText.OneLine(e.Message));
        }

        return Parse(text, path);
    }

    /// <summary>Parses YAML text; <paramref name="file"/> names it in messages (e.g. <c>builtin:postcopy</c>).</summary>
    public static ScenarioDocument Parse(string yaml, string file)
    {
        var reader = new Reader(file);
        try
        {
            return new ScenarioDocument(file, reader.ReadStream(new Parser(new StringReader(yaml))));
        }
        catch (YamlException e)
        {
            throw InputException.At(
                file, ToInt(e.Start.Line), ToInt(e.Start.Column), null, "malformed YAML: " + YamlMessage(e));
        }
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

    private sealed class Reader(string file)
    {
        public MappingNode ReadStream(Parser parser)
        {
            // The parser starts before the first event.
            parser.MoveNext();
            Take<StreamStart>(parser);
            if (parser.Current is StreamEnd)
            {
                return Empty(1, 1);
            }

            var start = Take<DocumentStart>(parser);
            MappingNode root;
            if (parser.Current is DocumentEnd)
            {
                root = Empty(Line(start), Column(start));
            }
            else
            {
                var node = ReadNode(parser, string.Empty);
                if (node is ScalarNode { IsNull: true })
                {
                    root = Empty(node.Line, node.Column);
                }
                else if (node is MappingNode mapping)
                {
                    root = mapping;
                }
                else
                {
                    throw node.Error($"a scenario must be a mapping of keys, got {node.Description}");
                }
            }

            Take<DocumentEnd>(parser);
            if (parser.Current is DocumentStart next)
            {
                throw InputException.At(file, Line(next), Column(next), null, "a scenario file holds one YAML document, found a second");
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

        private DocumentNode ReadNode(Parser parser, string path)
        {
            var current = parser.Current ?? throw new YamlException("unexpected end of the YAML stream");
            switch (current)
            {
                case Scalar scalar:
                    parser.MoveNext();
                    return new ScalarNode(
                        file, Line(scalar), Column(scalar), path, scalar.Value, scalar.Style is not ScalarStyle.Plain);
                case SequenceStart:
                    return ReadSequence(parser, path);
                case MappingStart:
                    return ReadMapping(parser, path);
                case AnchorAlias alias:
                    throw InputException.At(
                        file, Line(alias), Column(alias), path.Length == 0 ? null : path,
                        $"aliases (*{alias.Value}) are not supported; write the value out");
                default:
                    throw new YamlException(current.Start, current.End, $"unexpected {current.GetType().Name}");
            }
        }

        private SequenceNode ReadSequence(Parser parser, string path)
        {
            var start = Take<SequenceStart>(parser);
            var items = new List<DocumentNode>();
            while (parser.Current is not SequenceEnd)
            {
                var itemPath = path + "[" + items.Count.ToString(CultureInfo.InvariantCulture) + "]";
                items.Add(ReadNode(parser, itemPath));
            }

            parser.MoveNext();
            return new SequenceNode(file, Line(start), Column(start), path, items);
        }

        private MappingNode ReadMapping(Parser parser, string path)
        {
            var start = Take<MappingStart>(parser);
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
                entries.Add(new MappingEntry(key, ReadNode(parser, keyPath)));
            }

            parser.MoveNext();
            return new MappingNode(file, Line(start), Column(start), path, entries);
        }

        private static int Line(ParsingEvent e) => ToInt(e.Start.Line);

        private static int Column(ParsingEvent e) => ToInt(e.Start.Column);
    }
}
