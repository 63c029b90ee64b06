using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Flover.Actors.Configuration;
using Flover.Actors.Runtime;
using Flover.Gpu;

namespace Flover.Host.Cli;

/// <summary>
/// <c>flover bench-actors</c>: the actor runtime's throughput and latency, measured side by side
/// in one process: messages/s from one and from four senders to one receiver, Ask round trip
/// (median and p99), actor creation rate and memory per idle actor.
/// </summary>
internal static class BenchActorsCommand
{
    public static Command Create(CliConsole console)
    {
        var messages = new Option<int>("--messages") { Description = "Messages per throughput run.", DefaultValueFactory = _ => 2_000_000 };
        var asks = new Option<int>("--asks") { Description = "Ask round trips timed.", DefaultValueFactory = _ => 20_000 };
        var actors = new Option<int>("--actors") { Description = "Actors created for the creation-rate and memory runs.", DefaultValueFactory = _ => 100_000 };
        Option<bool> json = CommonOptions.Json();
        var command = new Command("bench-actors", "Measure the actor runtime: messages/s, Ask latency, creation rate, memory per actor.")
        {
            messages, asks, actors, json,
        };
        command.SetAction(parse =>
        {
            BenchActorsReport report = Run(
                Positive(parse.GetValue(messages), "--messages"),
                Positive(parse.GetValue(asks), "--asks"),
                Positive(parse.GetValue(actors), "--actors"),
                console.Error);
            if (parse.GetValue(json))
            {
                console.Out.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
            }
            else
            {
                console.Out.WriteLine($"threads (cores)             {report.Cores}");
                console.Out.WriteLine($"1 sender -> 1 receiver      {report.OneSenderMessagesPerSecond / 1e6:F2} M msg/s");
                console.Out.WriteLine($"4 senders -> 1 receiver     {report.FourSendersMessagesPerSecond / 1e6:F2} M msg/s");
                console.Out.WriteLine($"Ask round trip              median {report.AskMedianMicroseconds:F1} us, p99 {report.AskP99Microseconds:F1} us");
                console.Out.WriteLine($"actor creation              {report.ActorsCreatedPerSecond / 1e3:F0} k actors/s");
                console.Out.WriteLine($"memory per idle actor       {report.BytesPerIdleActor:F0} bytes");
            }

            return 0;
        });
        return command;
    }

    internal static BenchActorsReport Run(int messages, int asks, int actors, TextWriter log)
    {
        using ActorSystem system = ActorSystem.Create("bench", ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
        log.WriteLine("bench-actors: 1 sender ...");
        double one = Throughput(system, senders: 1, messages);
        log.WriteLine("bench-actors: 4 senders ...");
        double four = Throughput(system, senders: 4, messages);
        log.WriteLine("bench-actors: ask ...");
        (double median, double p99) = AskLatency(system, asks);
        log.WriteLine("bench-actors: creation and memory ...");
        (double rate, double bytes) = Creation(system, actors);
        return new BenchActorsReport(Environment.ProcessorCount, one, four, median, p99, rate, bytes);
    }

    private static double Throughput(ActorSystem system, int senders, int messages)
    {
        int perSender = messages / senders;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IActorRef receiver = system.ActorOf(Props.Create(() => new Counter(perSender * senders, done)));
        var producers = Enumerable.Range(0, senders).Select(_ => system.ActorOf(Props.Create(() => new Producer(receiver, perSender)))).ToList();
        long start = Stopwatch.GetTimestamp();
        producers.ForEach(p => p.Tell("go", ActorRefs.NoSender));
        done.Task.Wait();
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        producers.ForEach(system.Stop);
        system.Stop(receiver);
        return perSender * senders / seconds;
    }

    private static (double MedianMicroseconds, double P99Microseconds) AskLatency(ActorSystem system, int asks)
    {
        IActorRef echo = system.ActorOf(Props.Create(() => new Echo()));
        for (int i = 0; i < Math.Min(asks, 1000); i++)
        {
            echo.Ask<int>(i).GetAwaiter().GetResult();
        }

        var samples = new double[asks];
        for (int i = 0; i < asks; i++)
        {
            long start = Stopwatch.GetTimestamp();
            echo.Ask<int>(i).GetAwaiter().GetResult();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        Array.Sort(samples);
        system.Stop(echo);
        return (samples[asks / 2], samples[Math.Min(asks - 1, (int)(asks * 0.99))]);
    }

    private static (double PerSecond, double BytesPerActor) Creation(ActorSystem system, int actors)
    {
        using var started = new CountdownEvent(actors);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        long start = Stopwatch.GetTimestamp();
        var created = new IActorRef[actors];
        // One Props for all: compiling the factory expression per actor would dominate the timing.
        Props props = Props.Create(() => new Idle(started));
        for (int i = 0; i < actors; i++)
        {
            created[i] = system.ActorOf(props);
        }

        started.Wait();
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(created);
        return (actors / seconds, (after - before) / (double)actors);
    }

    private static int Positive(int value, string name) =>
        value > 0 ? value : throw new FloverException($"{name} must be at least 1, not {value}.");

    private sealed class Counter(int expected, TaskCompletionSource done) : UntypedActor
    {
        private int _count;

        protected override void OnReceive(object message)
        {
            if (++_count == expected)
            {
                done.SetResult();
            }
        }
    }

    private sealed class Producer(IActorRef target, int count) : UntypedActor
    {
        private static readonly object s_message = new();

        protected override void OnReceive(object message)
        {
            for (int i = 0; i < count; i++)
            {
                target.Tell(s_message, Self);
            }
        }
    }

    private sealed class Echo : UntypedActor
    {
        protected override void OnReceive(object message) => Sender.Tell(message, Self);
    }

    private sealed class Idle(CountdownEvent started) : UntypedActor
    {
        protected override void PreStart() => started.Signal();

        protected override void OnReceive(object message)
        {
        }
    }
}

/// <summary>What <c>flover bench-actors</c> measured.</summary>
internal sealed record BenchActorsReport(
    int Cores,
    double OneSenderMessagesPerSecond,
    double FourSendersMessagesPerSecond,
    double AskMedianMicroseconds,
    double AskP99Microseconds,
    double ActorsCreatedPerSecond,
    double BytesPerIdleActor);
