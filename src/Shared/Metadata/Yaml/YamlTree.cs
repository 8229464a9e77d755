using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Ferry.Shared.Metadata.Yaml;

/// <summary>A position in a file, 1-based.</summary>
internal readonly record struct TextPosition(int Line, int Column)
{
    public static TextPosition Of(Mark mark) => new((int)mark.Line, (int)mark.Column);
}

/// <summary>
/// A YAML node with the position it starts at. Ferry builds its own small tree from the parser's
/// events (instead of YamlStream) so every node keeps its position, duplicate keys are reported
/// like any other error, and a parser failure still points at a line.
/// </summary>
internal abstract record YNode(TextPosition Start)
{
    public abstract string Kind { get; }
}

internal sealed record YScalar(TextPosition Start, string Value, ScalarStyle Style, bool ExplicitString) : YNode(Start)
{
    public override string Kind => IsNull ? "nothing" : "a value";

    /// <summary><c>~</c>, <c>null</c> or nothing at all, unquoted.</summary>
    public bool IsNull => Style == ScalarStyle.Plain && !ExplicitString && Value is "" or "~" or "null" or "Null" or "NULL";
}

internal sealed record YSequence(TextPosition Start, IReadOnlyList<YNode> Items) : YNode(Start)
{
    public override string Kind => "a list";
}

internal sealed record YMapping(TextPosition Start, IReadOnlyList<KeyValuePair<YScalar, YNode>> Entries) : YNode(Start)
{
    public override string Kind => "a mapping";

    public YNode? this[string key] => Entries.FirstOrDefault(e => e.Key.Value == key).Value;
}

/// <summary>Reads one YAML document into a <see cref="YNode"/> tree, reporting problems instead of throwing.</summary>
internal static class YamlTree
{
    /// <summary>The document's root, or null when the file is empty or unreadable (then <paramref name="errors"/> says why).</summary>
    public static YNode? Parse(string text, string file, ICollection<MetadataError> errors)
    {
        var reader = new EventReader(new Parser(new StringReader(text)), file, errors);
        try
        {
            return reader.ReadDocument();
        }
        catch (YamlException e)
        {
            // YamlDotNet places tab-indentation errors at the start of the enclosing block; point at the tab.
            var tab = FindTabIndentation(text);
            if (tab is { } t && e.Message.Contains("tab", StringComparison.OrdinalIgnoreCase))
                errors.Add(new MetadataError(file, t.Line, t.Column, "invalid YAML: tab used for indentation (indent with spaces)"));
            else
                errors.Add(new MetadataError(file, (int)e.Start.Line, (int)e.Start.Column, "invalid YAML: " + Describe(e.Message)));
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this (not a YamlException) on some malformed flow collections.
            var at = reader.OpenFlowCollection ?? reader.LastPosition;
            var what = reader.OpenFlowCollection is null ? "invalid YAML" : "invalid YAML in the [...] or {...} that starts here (a closing bracket or a comma is missing)";
            errors.Add(new MetadataError(file, at.Line, at.Column, what));
            return null;
        }
    }

    private static string Describe(string message)
    {
        var m = message.Trim().TrimEnd('.');
        return m.Length == 0 ? "syntax error" : char.ToLowerInvariant(m[0]) + m[1..];
    }

    private static TextPosition? FindTabIndentation(string text)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            for (var c = 0; c < line.Length && (line[c] == ' ' || line[c] == '\t'); c++)
                if (line[c] == '\t' && line.TrimStart(' ', '\t').Length > 0 && !line.TrimStart(' ', '\t').StartsWith('#'))
                    return new TextPosition(i + 1, c + 1);
        }
        return null;
    }

    private sealed class EventReader(IParser parser, string file, ICollection<MetadataError> errors)
    {
        private readonly Dictionary<string, YNode> _anchors = new(StringComparer.Ordinal);
        private readonly Stack<(TextPosition At, bool Flow)> _open = new();

        public TextPosition LastPosition { get; private set; } = new(1, 1);
        public TextPosition? OpenFlowCollection => _open.Where(o => o.Flow).Select(o => (TextPosition?)o.At).FirstOrDefault();

        private ParsingEvent Next()
        {
            if (!parser.MoveNext())
                throw new YamlException(Mark.Empty, Mark.Empty, "unexpected end of file");
            var e = parser.Current!;
            LastPosition = TextPosition.Of(e.Start);
            return e;
        }

        public YNode? ReadDocument()
        {
            Expect<StreamStart>(Next());
            var e = Next();
            if (e is StreamEnd) return null;
            Expect<DocumentStart>(e);
            e = Next();
            YNode? root = e is DocumentEnd ? null : ReadNode(e);
            if (root is not null) Expect<DocumentEnd>(Next());
            e = Next();
            if (e is DocumentStart second)
            {
                var at = TextPosition.Of(second.Start);
                errors.Add(new MetadataError(file, at.Line, at.Column, "only one YAML document per file (remove the second '---')"));
            }
            return root is YScalar { IsNull: true } ? null : root;
        }

        private static void Expect<T>(ParsingEvent e) where T : ParsingEvent
        {
            if (e is not T)
                throw new YamlException(e.Start, e.End, $"unexpected {e.GetType().Name}");
        }

        private YNode ReadNode(ParsingEvent e)
        {
            switch (e)
            {
                case Scalar s:
                {
                    var node = new YScalar(TextPosition.Of(s.Start), s.Value, s.Style, !s.Tag.IsEmpty && s.Tag.Value is "tag:yaml.org,2002:str" or "!!str");
                    Remember(s.Anchor, node);
                    return node;
                }
                case SequenceStart ss:
                {
                    var at = TextPosition.Of(ss.Start);
                    _open.Push((at, ss.Style == SequenceStyle.Flow));
                    var items = new List<YNode>();
                    for (var next = Next(); next is not SequenceEnd; next = Next())
                        items.Add(ReadNode(next));
                    _open.Pop();
                    var node = new YSequence(at, items);
                    Remember(ss.Anchor, node);
                    return node;
                }
                case MappingStart ms:
                {
                    var at = TextPosition.Of(ms.Start);
                    _open.Push((at, ms.Style == MappingStyle.Flow));
                    var entries = new List<KeyValuePair<YScalar, YNode>>();
                    var seen = new Dictionary<string, TextPosition>(StringComparer.Ordinal);
                    for (var next = Next(); next is not MappingEnd; next = Next())
                    {
                        var keyNode = ReadNode(next);
                        var value = ReadNode(Next());
                        if (keyNode is not YScalar key)
                        {
                            errors.Add(new MetadataError(file, keyNode.Start.Line, keyNode.Start.Column, $"a key must be a plain name, found {keyNode.Kind}"));
                            continue;
                        }
                        if (seen.TryGetValue(key.Value, out var first))
                        {
                            errors.Add(new MetadataError(file, key.Start.Line, key.Start.Column, $"duplicate key '{key.Value}' (first given on line {first.Line})"));
                            continue;
                        }
                        seen[key.Value] = key.Start;
                        entries.Add(new(key, value));
                    }
                    _open.Pop();
                    var node = new YMapping(at, entries);
                    Remember(ms.Anchor, node);
                    return node;
                }
                case AnchorAlias alias:
                {
                    if (_anchors.TryGetValue(alias.Value.Value, out var target)) return target;
                    throw new YamlException(alias.Start, alias.End, $"unknown alias *{alias.Value.Value}");
                }
                default:
                    throw new YamlException(e.Start, e.End, $"unexpected {e.GetType().Name}");
            }
        }

        private void Remember(AnchorName anchor, YNode node)
        {
            if (!anchor.IsEmpty) _anchors[anchor.Value] = node;
        }
    }
}
