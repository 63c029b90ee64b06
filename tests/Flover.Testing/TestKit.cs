using Flover.Actors.Configuration;
using Flover.Actors.Runtime;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Flover.Testing;

/// <summary>
/// The xunit base class for actor tests (Akka.TestKit.Xunit2's <c>TestKit</c>): each test class
/// instance gets a fresh <see cref="ActorSystem"/>, <see cref="TestKitBase.TestActor"/> is the
/// implicit sender of <c>Tell</c> in the test, and logs go to the test's output.
/// </summary>
public class TestKit : TestKitBase, IDisposable
{
    private static long s_systemCount;
    private readonly ILoggerFactory _loggerFactory;
    private bool _disposed;

    /// <summary>Creates the kit with <paramref name="config"/> (HOCON text) on top of reference.conf.</summary>
    public TestKit(string config, ITestOutputHelper? output = null)
        : this(ConfigurationFactory.ParseString(config), null, output)
    {
    }

    /// <summary>Creates the kit with an optional configuration, system name and test output.</summary>
    public TestKit(Config? config = null, string? actorSystemName = null, ITestOutputHelper? output = null)
        : this(CreateSystem(config, actorSystemName, output, out ILoggerFactory loggerFactory), loggerFactory)
    {
    }

    private TestKit(ActorSystem system, ILoggerFactory loggerFactory)
        : base(system, "testActor1")
    {
        _loggerFactory = loggerFactory;
        // The implicit sender of Tell outside actors, for this test's async flow.
        ActorCell.AmbientSelf = TestActor;
        EventFilter = new EventFilterFactory(this);
    }

    /// <summary>Expectations on log events and dead letters.</summary>
    public EventFilterFactory EventFilter { get; }

    /// <summary>The virtual-time scheduler, when the configuration selects it (see <see cref="TestScheduler.Config"/>).</summary>
    public TestScheduler Scheduler => Sys.Scheduler as TestScheduler
        ?? throw new InvalidOperationException("This TestKit runs on the real scheduler: pass TestScheduler.Config to use virtual time.");

    /// <summary>Terminates the system (waiting at most the default timeout).</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Terminates the system.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (_disposed || !disposing)
        {
            return;
        }

        _disposed = true;
        ActorCell.AmbientSelf = null;
        bool terminated = Sys.Terminate().Wait(DefaultTimeout);
        _loggerFactory.Dispose();
        if (!terminated)
        {
            throw new TimeoutException($"Actor system {Sys.Name} did not terminate within {DefaultTimeout}.");
        }
    }

    private static ActorSystem CreateSystem(Config? config, string? name, ITestOutputHelper? output, out ILoggerFactory loggerFactory)
    {
        loggerFactory = Microsoft.Extensions.Logging.LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Debug);
            if (output is not null)
            {
                builder.AddProvider(new TestOutputLoggerProvider(output));
            }
        });
        BootstrapSetup setup = BootstrapSetup.Create().WithLoggerFactory(loggerFactory);
        if (config is not null)
        {
            setup = setup.WithConfig(config);
        }

        return ActorSystem.Create(name ?? "test" + Interlocked.Increment(ref s_systemCount), setup);
    }
}

/// <summary>Writes log lines to xunit's per-test output.</summary>
internal sealed class TestOutputLoggerProvider(ITestOutputHelper output) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new OutputLogger(output, categoryName);

    public void Dispose()
    {
    }

    private sealed class OutputLogger(ITestOutputHelper output, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try
            {
                output.WriteLine($"[{logLevel}] {category}: {formatter(state, exception)}{(exception is null ? string.Empty : Environment.NewLine + exception)}");
            }
            catch (InvalidOperationException)
            {
                // The test has finished; xunit no longer accepts output for it.
            }
        }
    }
}
