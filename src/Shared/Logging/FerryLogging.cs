using Serilog;
using Serilog.Configuration;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Compact;

namespace Ferry.Shared.Logging;

/// <summary>
/// The one place a Ferry log is configured (nodes and CLI): Serilog with a console sink (text for
/// people, compact JSON with --log-format json), an optional rolling JSON file, and on a node the run
/// log in the target database. Every sink writes through the <see cref="SecretMask"/>. Akka's own
/// lines arrive through Akka.Logger.Serilog, so they carry one timestamp, Serilog's.
/// </summary>
public static class FerryLogging
{
    /// <summary>The run log keeps info lines even when the console shows only warnings (the demo).</summary>
    private const LogEventLevel RunLogLevel = LogEventLevel.Information;

    /// <param name="node">host:port of the node, or "cli"; every line carries it as Node.</param>
    /// <param name="runLogConnectionString">The target database, where the run log is kept; null = not kept (the CLI).</param>
    public static Logger Create(LogSettings settings, string node, string? runLogConnectionString = null)
    {
        var mask = new SecretMask(settings.Secrets);
        var least = (LogEventLevel)Math.Min((int)settings.Level, (int)(runLogConnectionString is null ? settings.Level : RunLogLevel));
        var config = new LoggerConfiguration()
            .MinimumLevel.Is(least)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("LinqToDB", LogEventLevel.Warning)
            .Enrich.FromLogContext()
            .Enrich.WithProperty(RunLogContext.Node, node)
            .Enrich.With<ShortSource>();

        ITextFormatter text = settings.Format == LogFormat.Json ? new RenderedCompactJsonFormatter() : new PlainText();
        config.WriteTo.Console(mask.Wrap(text), restrictedToMinimumLevel: settings.Level);
        if (settings.File is { Length: > 0 } file)
            config.WriteTo.File(mask.Wrap(new RenderedCompactJsonFormatter()), file, restrictedToMinimumLevel: settings.Level,
                rollingInterval: RollingInterval.Day, retainedFileCountLimit: 14);
        if (runLogConnectionString is not null)
            config.WriteTo.Logger(l => l.Filter.ByIncludingOnly(RunLogSink.Keeps)
                .WriteTo.Sink(new RunLogSink(runLogConnectionString, mask, node),
                    new BatchingOptions { BatchSizeLimit = 500, BufferingTimeLimit = TimeSpan.FromSeconds(1), QueueLimit = 100_000 },
                    restrictedToMinimumLevel: RunLogLevel));
        return config.CreateLogger();
    }

    /// <summary>Source: the last part of SourceContext (ProcessActor, ClusterCoreDaemon): short enough for a console line.</summary>
    private sealed class ShortSource : ILogEventEnricher
    {
        public void Enrich(LogEvent logEvent, ILogEventPropertyFactory factory)
        {
            var context = logEvent.Properties.TryGetValue(Constants.SourceContextPropertyName, out var v) && v is ScalarValue { Value: string s } ? s : "ferry";
            // Akka's lines from a string source (the cluster daemon, remoting) name no class: "akka" says where they come from.
            if (context.EndsWith("DummyClassForStringSources", StringComparison.Ordinal)) context = "akka";
            var tick = context.IndexOf('`');
            if (tick > 0) context = context[..tick];
            var dot = context.LastIndexOf('.');
            logEvent.AddPropertyIfAbsent(factory.CreateProperty("Source", dot >= 0 ? context[(dot + 1)..] : context));
        }
    }
}
