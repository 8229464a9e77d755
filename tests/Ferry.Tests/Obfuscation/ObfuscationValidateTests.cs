using Ferry.Shared.Metadata;
using Ferry.Tests.Metadata;
using Ferry.Worker.Introspection;

namespace Ferry.Tests.Obfuscation;

public sealed class ObfuscationValidateTests(ValidatorSourceDatabase db) : IClassFixture<ValidatorSourceDatabase>, IDisposable
{
    private readonly MetadataFolder _folder = new(db.ConnectionsYaml());

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Metadata_validate_reports_a_rule_on_a_type_it_cannot_serve_and_a_missing_column_at_their_lines()
    {
        var file = _folder.Write("tables/qvp/users.yaml", """
            source: qvp
            table: public.users
            key: [id]
            cdc: { mode: window, columns: [created_at] }
            obfuscate:
              email: email
              updated_at: { date_shift: 3 }
              e_mail: { hash: 12 }
            """);
        var metadata = MetadataLoader.Load(_folder.Root, out var positions);

        var report = await MetadataValidator.ValidateAsync(metadata, positions);

        Assert.Equal([
            $"{file}:7:3: obfuscation rule date_shift on column updated_at of public.users cannot serve its type text (it needs date or timestamp)",
            $"{file}:8:3: obfuscated column 'e_mail' does not exist in public.users (did you mean 'email'?)",
        ], report.Problems.Select(p => p.ToString()));
    }
}
