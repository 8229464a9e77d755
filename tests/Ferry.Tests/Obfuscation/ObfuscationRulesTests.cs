using Ferry.Worker.Obfuscation;

namespace Ferry.Tests.Obfuscation;

public class ObfuscationRulesTests
{
    private static readonly ObfuscationKey Key = new("unit-test-key");
    private static readonly ObfuscationKey OtherKey = new("another-key");

    [Theory]
    [InlineData("98512345612", "985***12")]
    [InlineData("+49 (985) 123-456-12", "+499***12")]
    [InlineData("0171 4444 9876", "017***76")]
    [InlineData("12345", "***")]
    [InlineData("", "")]
    public void Phone_keeps_three_leading_and_two_trailing_digits_around_a_mask(string phone, string expected) =>
        Assert.Equal(expected, ObfuscationRules.Phone(phone));

    [Fact]
    public void Email_has_a_hashed_local_part_a_masked_domain_and_the_kept_top_level_domain()
    {
        var email = ObfuscationRules.Email(Key, "anna.meyer@gmail.com");

        Assert.Matches("^[0-9a-f]{12}@g\\*\\*\\*\\.com$", email);
        Assert.Equal(email, ObfuscationRules.Email(Key, " Anna.Meyer@GMAIL.com "));
        Assert.NotEqual(email, ObfuscationRules.Email(Key, "anna.meyer@gmail.de"));
        Assert.Matches("^[0-9a-f]{12}@\\*\\*\\*\\.invalid$", ObfuscationRules.Email(Key, "not an address"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    [InlineData(64)]
    public void Hash_is_lowercase_hex_of_the_asked_length(int length) =>
        Assert.Matches($"^[0-9a-f]{{{length}}}$", ObfuscationRules.Hash(Key, "DE123456789", length));

    [Fact]
    public void Every_keyed_rule_is_deterministic_and_a_changed_key_changes_its_output()
    {
        Assert.Equal(ObfuscationRules.Hash(Key, "DE123456789", 9), ObfuscationRules.Hash(new ObfuscationKey("unit-test-key"), "DE123456789", 9));
        Assert.NotEqual(ObfuscationRules.Hash(Key, "DE123456789", 9), ObfuscationRules.Hash(OtherKey, "DE123456789", 9));
        Assert.NotEqual(ObfuscationRules.Email(Key, "a@b.com"), ObfuscationRules.Email(OtherKey, "a@b.com"));
        Assert.NotEqual(ObfuscationRules.Hash(Key, "DE123456789", 9), ObfuscationRules.Hash(Key, "DE123456780", 9));
        // The names of 200 values under two keys: the same value gets the same name, and the keys pick differently.
        var values = Enumerable.Range(0, 200).Select(i => $"person {i}").ToList();
        Assert.Equal(values.Select(v => ObfuscationRules.Name(Key, v, "full")), values.Select(v => ObfuscationRules.Name(Key, v, "full")));
        Assert.NotEqual(values.Select(v => ObfuscationRules.Name(Key, v, "full")), values.Select(v => ObfuscationRules.Name(OtherKey, v, "full")));
    }

    [Fact]
    public void Name_picks_from_the_shipped_lists_and_the_full_name_starts_with_the_first_name()
    {
        var first = ObfuscationRules.Name(Key, "Bartholomew", "first");

        Assert.Contains(first, FakeNames.First);
        Assert.Contains(ObfuscationRules.Name(Key, "Bartholomew", "last"), FakeNames.Last);
        Assert.StartsWith(first + " ", ObfuscationRules.Name(Key, "Bartholomew", "full"));
        Assert.True(FakeNames.First.Count >= 150 && FakeNames.Last.Count >= 150, "a few hundred names ship");
    }

    [Fact]
    public void Truncate_cuts_at_whole_characters_and_never_splits_an_emoji() =>
        Assert.Equal(["ab😀", "ab", ""], new[] { ObfuscationRules.Truncate("ab😀cd", 3), ObfuscationRules.Truncate("ab", 3), ObfuscationRules.Truncate("", 3) });

    [Fact]
    public void Date_shift_moves_the_date_and_keeps_time_and_zone_and_lets_infinity_pass()
    {
        Assert.Equal("2024-03-01", ObfuscationRules.DateShift("2024-02-28", 2));
        Assert.Equal("2023-12-31 23:59:59.5+05:30", ObfuscationRules.DateShift("2024-01-01 23:59:59.5+05:30", -1));
        Assert.Equal("infinity", ObfuscationRules.DateShift("infinity", 5));
    }

    [Fact]
    public void The_row_shift_is_never_zero_and_stays_within_the_days_asked()
    {
        var shifts = Enumerable.Range(0, 2000).Select(i => ObfuscationRules.ShiftDays(Key.Number("date_shift", i.ToString()), 3)).ToList();

        Assert.DoesNotContain(0, shifts);
        Assert.Equal([-3, -2, -1, 1, 2, 3], shifts.Distinct().Order());
    }

    [Fact]
    public void Number_noise_stays_within_the_percentage_the_decimals_and_the_type()
    {
        Assert.Equal("105.00", ObfuscationRules.NumberNoise("100.00", 0.05, new NumberShape.Numeric(null)));
        Assert.Equal("95", ObfuscationRules.NumberNoise("100", -0.05, new NumberShape.Integer(int.MinValue, int.MaxValue)));
        Assert.Equal("32767", ObfuscationRules.NumberNoise("32000", 0.05, new NumberShape.Integer(short.MinValue, short.MaxValue)));
        Assert.Equal("999.99", ObfuscationRules.NumberNoise("990.00", 0.05, new NumberShape.Numeric(999.99m)));
        Assert.Equal("NaN", ObfuscationRules.NumberNoise("NaN", 0.05, new NumberShape.Float(false)));
        var fractions = Enumerable.Range(0, 1000).Select(i => ObfuscationRules.NoiseFraction(Key.Number("number_noise", i.ToString()), 5m)).ToList();
        Assert.All(fractions, f => Assert.InRange(f, -0.05, 0.05));
    }

    [Fact]
    public void The_key_is_never_shown()
    {
        Assert.DoesNotContain("unit-test-key", Key.ToString());
        Assert.Throws<ArgumentException>(() => new ObfuscationKey(""));
    }
}
