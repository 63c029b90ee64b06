using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Flover.Host.Benchmarks;

namespace Flover.Host.Cli;

/// <summary>
/// <c>flover bench-collectives</c>: all-reduce latency and bandwidth of each data path a tensor-parallel
/// group can use (shared memory in one process; TCP, plain and with mutual TLS, and Akka.Remote
/// messages, between processes), ranks on threads of this process, the others over loopback, for
/// decode-sized tensors.
/// </summary>
internal static class BenchCollectivesCommand
{
    public static Command Create(CliConsole console)
    {
        var ranks = new Option<string>("--ranks") { Description = "Comma-separated group sizes.", DefaultValueFactory = _ => "2,3" };
        var elements = new Option<string>("--elements") { Description = "Comma-separated float counts per all-reduce (768 = one gpt2 row; 65536 = 32 TinyLlama rows).", DefaultValueFactory = _ => "768,2048,24576,65536,1048576" };
        var iterations = new Option<int>("--iterations") { Description = "Timed calls per size and path.", DefaultValueFactory = _ => 200 };
        Option<bool> json = CommonOptions.Json();
        var command = new Command("bench-collectives", "Measure all-reduce latency and bandwidth of the in-process, TCP, TCP+TLS and Akka.Remote data paths of tensor parallelism (loopback).")
        {
            ranks, elements, iterations, json,
        };
        command.SetAction(parse =>
        {
            int[] groups = BenchDecodeCommand.ParseBatches(parse.GetValue(ranks)!, "--ranks");
            if (groups.Any(g => g < 2))
            {
                throw new Gpu.FloverException("--ranks takes group sizes of 2 or more.");
            }

            int[] sizes = BenchDecodeCommand.ParseBatches(parse.GetValue(elements)!, "--elements");
            int count = parse.GetValue(iterations) > 0 ? parse.GetValue(iterations) : throw new Gpu.FloverException($"--iterations must be positive, not {parse.GetValue(iterations)}.");
            IReadOnlyList<CollectiveTiming> timings = CollectiveBenchmark.Run(groups, sizes, count, console.Error);
            if (parse.GetValue(json))
            {
                console.Out.WriteLine(JsonSerializer.Serialize(timings, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true }));
                return 0;
            }

            console.Out.WriteLine($"{"ranks",5} {"path",-11} {"elements",9} {"bytes",9} {"median us",10} {"min us",9} {"GB/s",7}");
            foreach (CollectiveTiming t in timings)
            {
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{t.Ranks,5} {t.Path,-11} {t.Elements,9} {t.Elements * 4,9} {t.MedianMicroseconds,10:F1} {t.MinMicroseconds,9:F1} {t.GigabytesPerSecond,7:F2}"));
            }

            return 0;
        });
        return command;
    }
}
