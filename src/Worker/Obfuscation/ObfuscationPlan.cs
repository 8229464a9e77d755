using System.Globalization;
using System.Text;
using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;

namespace Ferry.Worker.Obfuscation;

/// <summary>
/// A table's rules bound to the columns of one extract, once their types are known: which CSV field gets
/// which rule. Built only for DEV extracts (<see cref="ObfuscationPolicy"/>); a rule naming a missing column
/// or a column type it cannot serve fails the extract here, before the first row.
/// </summary>
public sealed class ObfuscationPlan
{
    private readonly ObfuscationKey _key;
    private readonly Func<string?, RowOffsets, string?>?[] _byField;

    /// <summary>The rules applied, column → rule (for the manifest).</summary>
    public IReadOnlyDictionary<string, ObfuscationRule> Applied { get; }

    /// <summary>How many fields each record has.</summary>
    public int FieldCount => _byField.Length;

    /// <summary>The indexes of the key columns, whose raw text seeds the row's date shift and number noise.</summary>
    public IReadOnlyList<int> KeyFields { get; }

    /// <summary>Whether any rule needs the row's offsets (date_shift, number_noise).</summary>
    public bool NeedsRowKey { get; }

    public bool Rewrites(int field) => _byField[field] is not null;

    public string? Apply(int field, string? value, RowOffsets row) => _byField[field]!(value, row);

    /// <summary>A holder of row offsets for one rewriter (not shared between threads).</summary>
    public RowOffsets NewRowOffsets() => new(_key);

    private ObfuscationPlan(ObfuscationKey key, Func<string?, RowOffsets, string?>?[] byField, IReadOnlyDictionary<string, ObfuscationRule> applied,
        IReadOnlyList<int> keyFields, bool needsRowKey)
    {
        _key = key;
        _byField = byField;
        Applied = applied;
        KeyFields = keyFields;
        NeedsRowKey = needsRowKey;
    }

    /// <summary>The plan for <paramref name="columns"/> (the extract's CSV columns, in order), or null when no column is rewritten.</summary>
    public static ObfuscationPlan? For(SourceTable table, IReadOnlyList<ColumnSpec> columns, ObfuscationKey key)
    {
        if (table.Obfuscate is not { Count: > 0 } rules) return null;
        var where = $"{table.Schema}.{table.Table}";
        var missing = rules.Keys.Where(c => columns.All(s => s.Name != c)).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException(
                $"obfuscation rule(s) in {table.File ?? "metadata"} name column(s) {string.Join(", ", missing)} that {where} does not have");
        var byField = new Func<string?, RowOffsets, string?>?[columns.Count];
        var needsRowKey = false;
        for (var i = 0; i < columns.Count; i++)
        {
            if (!rules.TryGetValue(columns[i].Name, out var rule) || rule.Kind == ObfuscationKind.Keep) continue;
            byField[i] = Bind(rule, columns[i], where, key);
            needsRowKey |= rule.Kind is ObfuscationKind.DateShift or ObfuscationKind.NumberNoise;
        }
        var keyFields = table.Key.Select(k => columns.ToList().FindIndex(c => c.Name == k)).ToArray();
        return new ObfuscationPlan(key, byField, rules, keyFields, needsRowKey);
    }

    private static Func<string?, RowOffsets, string?> Bind(ObfuscationRule rule, ColumnSpec column, string table, ObfuscationKey key)
    {
        var type = column.StgType;
        if (Needs(rule.Kind, type) is { } needs)
            throw new InvalidOperationException(
                $"obfuscation rule {rule.RuleName} on column {column.Name} of {table} cannot serve its type {column.SourceType} (it needs {needs})");
        int Int() => int.Parse(rule.Parameter!, CultureInfo.InvariantCulture);
        switch (rule.Kind)
        {
            case ObfuscationKind.Null:
                return static (_, _) => null;
            case ObfuscationKind.Fixed:
            {
                var value = rule.Parameter;
                return (_, _) => value;
            }
            case ObfuscationKind.Hash:
            {
                var length = Int();
                return (v, _) => v is null ? null : ObfuscationRules.Hash(key, v, length);
            }
            case ObfuscationKind.Phone:
                return static (v, _) => v is null ? null : ObfuscationRules.Phone(v);
            case ObfuscationKind.Email:
                return (v, _) => v is null ? null : ObfuscationRules.Email(key, v);
            case ObfuscationKind.Name:
            {
                var part = rule.Parameter ?? "first";
                return (v, _) => v is null ? null : ObfuscationRules.Name(key, v, part);
            }
            case ObfuscationKind.Truncate:
            {
                var length = Int();
                return (v, _) => v is null ? null : ObfuscationRules.Truncate(v, length);
            }
            case ObfuscationKind.DateShift:
            {
                var days = Int();
                return (v, row) => v is null ? null : ObfuscationRules.DateShift(v, row.ShiftDays(days));
            }
            case ObfuscationKind.NumberNoise:
            {
                var shape = NumberShapeOf(type);
                var percent = decimal.Parse(rule.Parameter!, CultureInfo.InvariantCulture);
                return (v, row) => v is null ? null : ObfuscationRules.NumberNoise(v, row.NoiseFraction(percent), shape!);
            }
            default:
                throw new InvalidOperationException($"obfuscation rule {rule.RuleName} on column {column.Name} of {table} is not implemented");
        }
    }

    private const string TextTypes = "text, varchar or char", DateTypes = "date or timestamp",
        NumberTypes = "smallint, integer, bigint, numeric, real or double precision";

    /// <summary>Which types a rule needs when <paramref name="type"/> (format_type text) is not one of them; null when it serves it.</summary>
    public static string? Needs(ObfuscationKind kind, string type) => kind switch
    {
        ObfuscationKind.Hash or ObfuscationKind.Phone or ObfuscationKind.Email or ObfuscationKind.Name or ObfuscationKind.Truncate => IsText(type) ? null : TextTypes,
        ObfuscationKind.DateShift => IsDate(type) ? null : DateTypes,
        ObfuscationKind.NumberNoise => NumberShapeOf(type) is null ? NumberTypes : null,
        _ => null,
    };

    /// <summary>
    /// Whether <paramref name="type"/> is a built-in type whose fitness <see cref="Needs"/> can judge from the
    /// declared type alone (a domain or enum is judged at extract time, by the type it has in STG).
    /// </summary>
    public static bool IsJudgedByDeclaredType(string type) =>
        IsText(type) || IsDate(type) || NumberShapeOf(type) is not null || type.EndsWith("[]", StringComparison.Ordinal)
        || type is "boolean" or "uuid" or "json" or "jsonb" or "bytea" or "interval" or "inet" or "cidr" or "money" or "oid"
        || type.StartsWith("time ", StringComparison.Ordinal) || type.StartsWith("time(", StringComparison.Ordinal);

    private static bool IsDate(string type) => type == "date" || type.StartsWith("timestamp", StringComparison.Ordinal);

    private static bool IsText(string type) =>
        type is "text" or "name" or "bpchar" or "varchar" || type.StartsWith("character", StringComparison.Ordinal);

    private static NumberShape? NumberShapeOf(string type)
    {
        switch (type)
        {
            case "smallint": return new NumberShape.Integer(short.MinValue, short.MaxValue);
            case "integer": return new NumberShape.Integer(int.MinValue, int.MaxValue);
            case "bigint": return new NumberShape.Integer(long.MinValue, long.MaxValue);
            case "real": return new NumberShape.Float(Single: true);
            case "double precision": return new NumberShape.Float(Single: false);
            case "numeric": return new NumberShape.Numeric(null);
        }
        if (!type.StartsWith("numeric(", StringComparison.Ordinal) || !type.EndsWith(')')) return null;
        // numeric(p, s) holds values below 10^(p-s) with s decimals: noise must stay inside.
        var parts = type["numeric(".Length..^1].Split(',', StringSplitOptions.TrimEntries);
        var precision = int.Parse(parts[0], CultureInfo.InvariantCulture);
        var scale = parts.Length > 1 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : 0;
        if (precision - scale > 28 || scale > 28 || scale < 0) return new NumberShape.Numeric(null);
        var max = Pow10(precision - scale) - 1m / Pow10(scale);
        return new NumberShape.Numeric(max);
    }

    private static decimal Pow10(int n)
    {
        var r = 1m;
        for (var i = 0; i < n; i++) r *= 10;
        return r;
    }
}

/// <summary>
/// One row's date shift and number noise, drawn from the row's key text (HMAC) on first use and shared by
/// every column of the row. Reused from row to row by <see cref="Reset"/>.
/// </summary>
public sealed class RowOffsets(ObfuscationKey key)
{
    private string _rowKey = "";
    private ulong? _shiftSeed, _noiseSeed;

    public void Reset(string rowKey)
    {
        _rowKey = rowKey;
        _shiftSeed = _noiseSeed = null;
    }

    public int ShiftDays(int maxDays) => ObfuscationRules.ShiftDays(_shiftSeed ??= key.Number("date_shift", _rowKey), maxDays);

    public double NoiseFraction(decimal percent) => ObfuscationRules.NoiseFraction(_noiseSeed ??= key.Number("number_noise", _rowKey), percent);

    /// <summary>The text the offsets are drawn from: the key fields' raw CSV text, separated so (a,bc) and (ab,c) differ.</summary>
    public static string KeyText(IEnumerable<string?> keyValues)
    {
        var sb = new StringBuilder();
        foreach (var v in keyValues)
        {
            if (sb.Length > 0) sb.Append('\u001f');
            sb.Append(v ?? "\u0000");
        }
        return sb.ToString();
    }
}
