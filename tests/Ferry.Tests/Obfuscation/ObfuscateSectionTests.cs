using Ferry.Shared.Metadata;
using Ferry.Tests.Metadata;

namespace Ferry.Tests.Obfuscation;

public class ObfuscateSectionTests : IDisposable
{
    private readonly MetadataFolder _folder = new();

    private const string Head = "source: qvp\ntable: users\nkey: [id]\ncdc: { mode: window, columns: [updated_at] }\n";

    public void Dispose() => _folder.Dispose();

    private MetadataError LoadFailsWithOne(string obfuscate)
    {
        _folder.Write("tables/qvp/users.yaml", Head + obfuscate);
        return Assert.Single(Assert.Throws<MetadataException>(() => MetadataLoader.Load(_folder.Root)).Errors);
    }

    [Fact]
    public void Every_rule_and_its_parameter_is_read_from_the_table_file()
    {
        _folder.Write("tables/qvp/users.yaml", Head + """
            obfuscate:
              phone_number: phone
              first_name: name
              last_name: { name: last }
              email: email
              tax_id: { hash: 12 }
              code: hash
              notes: null
              country: { fixed: XX }
              birth_date: { date_shift: 30 }
              salary: { number_noise: 2.5 }
              comment: { truncate: 20 }
              id: keep
            """);

        var rules = Assert.Single(MetadataLoader.Load(_folder.Root).Tables).Obfuscate!;

        Assert.Equal(new Dictionary<string, ObfuscationRule>
        {
            ["phone_number"] = new(ObfuscationKind.Phone), ["first_name"] = new(ObfuscationKind.Name, "first"),
            ["last_name"] = new(ObfuscationKind.Name, "last"), ["email"] = new(ObfuscationKind.Email),
            ["tax_id"] = new(ObfuscationKind.Hash, "12"), ["code"] = new(ObfuscationKind.Hash, "9"), ["notes"] = new(ObfuscationKind.Null),
            ["country"] = new(ObfuscationKind.Fixed, "XX"), ["birth_date"] = new(ObfuscationKind.DateShift, "30"),
            ["salary"] = new(ObfuscationKind.NumberNoise, "2.5"), ["comment"] = new(ObfuscationKind.Truncate, "20"), ["id"] = new(ObfuscationKind.Keep),
        }, rules.ToDictionary());
    }

    [Fact]
    public void A_table_without_obfuscate_has_no_rules()
    {
        _folder.Write("tables/qvp/users.yaml", Head);

        Assert.Null(Assert.Single(MetadataLoader.Load(_folder.Root).Tables).Obfuscate);
    }

    [Fact]
    public void An_unknown_rule_is_reported_at_its_file_line_and_column_with_a_suggestion()
    {
        var error = LoadFailsWithOne("obfuscate:\n  phone_number: phnoe\n");

        Assert.Equal($"{_folder.PathOf("tables/qvp/users.yaml")}:6:17: 'obfuscate.phone_number': unknown rule 'phnoe' (did you mean 'phone'? " +
            "expected one of: keep, null, fixed, hash, phone, email, name, date_shift, number_noise, truncate)", error.ToString());
    }

    [Theory]
    [InlineData("  tax_id: { hash: 100 }\n", 6, "'obfuscate.tax_id': hash must be a length from 1 to 64 hex digits, found '100'")]
    [InlineData("  birth_date: date_shift\n", 6, "'obfuscate.birth_date': rule date_shift needs a parameter, e.g. { date_shift: 30 }")]
    [InlineData("  salary: { number_noise: lots }\n", 6, "'obfuscate.salary': number_noise must be a percentage above 0 and at most 100, e.g. 5 or 2.5, found 'lots'")]
    [InlineData("  email: { email: 3 }\n", 6, "'obfuscate.email': rule email takes no parameter (write email: email)")]
    [InlineData("  notes:\n", 6, "'obfuscate.notes' has no rule (write null to blank the column, keep to copy it; expected one of: phone, email, name, keep, null, { hash: 12 }, { fixed: XX }, { date_shift: 30 }, { number_noise: 5 }, { truncate: 20 })")]
    [InlineData("  first_name: { name: middle }\n", 6, "'obfuscate.first_name': name must be one of first, last, full, found 'middle'")]
    public void A_bad_parameter_is_reported_at_its_line(string line, int expectedLine, string message)
    {
        var error = LoadFailsWithOne("obfuscate:\n" + line);

        Assert.Equal((expectedLine, message), (error.Line!.Value, error.Message));
    }

    [Fact]
    public void An_sql_rule_is_refused_with_a_clear_error()
    {
        var error = LoadFailsWithOne("obfuscate:\n  address: { sql: \"left(address, 3)\" }\n");

        Assert.Equal(6, error.Line);
        Assert.StartsWith("'obfuscate.address': sql rules are not supported yet", error.Message);
    }

    [Theory]
    [InlineData("id", "part of the key")]
    [InlineData("updated_at", "a CDC column")]
    public void A_rule_on_a_column_STG_needs_unchanged_is_refused(string column, string what)
    {
        var error = LoadFailsWithOne($"obfuscate:\n  {column}: {{ hash: 9 }}\n");

        Assert.Equal((6, $"'obfuscate.{column}': column {column} is {what}: STG needs its real values (only keep is allowed)"), (error.Line!.Value, error.Message));
    }
}
