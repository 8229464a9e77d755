namespace Ferry.Bench;

/// <summary>One case measured for both sides: the figures the report prints.</summary>
public sealed record CaseFigures(
    string Name,
    string Target,
    double? TargetRatio,
    BaselineResult Baseline,
    FerryCaseResult Ferry,
    TimeSpan FerryWall,
    TimeSpan BaselineVacuum,
    TimeSpan FerryVacuum,
    string LoadBefore)
{
    public double Ratio => FerryWall.TotalSeconds / Baseline.Total.TotalSeconds;
    public double BaselineRowsPerSecond => Baseline.Rows / Baseline.Total.TotalSeconds;
    public double FerryRowsPerSecond => Ferry.RowsExtracted / FerryWall.TotalSeconds;
    public double FerryPeakMb => Ferry.PeakRssKb / 1024.0;
}
