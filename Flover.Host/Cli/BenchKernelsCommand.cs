using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Host.Benchmarks;

namespace Flover.Host.Cli;

/// <summary>
/// <c>flover bench-kernels</c>: the matmul's GFLOP/s on GPT-2's shapes (LM head included) for several
/// row counts M and weight precisions, next to OpenBLAS (<c>cblas_sgemm</c>, <c>cblas_sgemv</c> at
/// M = 1) on the same shapes and threads when it is installed, with the ratio.
/// </summary>
internal static class BenchKernelsCommand
{
    public static Command Create(CliConsole console)
    {
        var rows = new Option<string>("--m") { Description = "Comma-separated row counts M.", DefaultValueFactory = _ => "1,4,16,32,64,256" };
        var shapes = new Option<string?>("--shapes") { Description = "Comma-separated shape names to run (default: all): " + string.Join(", ", KernelBenchmark.Gpt2Shapes.Select(s => s.Name)) + "." };
        var threads = new Option<int>("--threads") { Description = "Kernel threads (and OpenBLAS threads); 0 = one per core.", DefaultValueFactory = _ => 0 };
        var dtypes = new Option<string>("--dtype") { Description = "Comma-separated weight precisions: f32, f16, bf16.", DefaultValueFactory = _ => "f32" };
        Option<bool> json = CommonOptions.Json();
        var command = new Command("bench-kernels", "Measure the CPU engine's matmul GFLOP/s on the gpt2 shapes against OpenBLAS on the same threads (CPU only: there is no --device; Flover.GpuCheck --bench times the GPU kernels).")
        {
            rows, shapes, threads, dtypes, json,
        };
        command.SetAction(parse =>
        {
            int[] rowCounts = BenchDecodeCommand.ParseBatches(parse.GetValue(rows)!, "--m");
            TensorDType[] precisions = [.. parse.GetValue(dtypes)!.Split(',', StringSplitOptions.TrimEntries)
                .Select(name => TensorDTypeExtensions.ParseWeightDType(name, "--dtype") ?? throw new FloverException("--dtype takes f32, f16 or bf16 here; 'auto' means nothing without a checkpoint."))];
            IReadOnlyList<KernelShape> selected = SelectShapes(parse.GetValue(shapes));
            var engine = new EngineOptions(parse.GetValue(threads));
            using OpenBlas? openBlas = OpenBlas.TryLoad(out string? whyNot);
            using var benchmark = new KernelBenchmark(engine, openBlas);
            console.Error.WriteLine($"bench-kernels: {benchmark.Device}; OpenBLAS: {openBlas?.Path ?? whyNot}");
            var results = new List<KernelMeasurement>();
            foreach (KernelShape shape in selected)
            {
                benchmark.Measure(shape, rowCounts, precisions, measurement =>
                {
                    console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench-kernels: {shape.Name} m={measurement.M} {measurement.DType.ToName()}: {measurement.Gflops:F1} GFLOP/s"));
                    results.Add(measurement);
                });
            }

            var report = new BenchKernelsReport(engine.ResolveThreadCount(), openBlas?.Path, [.. results.Select(BenchKernelsRow.From)]);
            if (parse.GetValue(json))
            {
                console.Out.WriteLine(JsonSerializer.Serialize(report, BenchDecodeJson.Options));
            }
            else
            {
                WriteTable(report, whyNot, console.Out);
            }

            return 0;
        });
        return command;
    }

    private static IReadOnlyList<KernelShape> SelectShapes(string? names)
    {
        if (names is null)
        {
            return KernelBenchmark.Gpt2Shapes;
        }

        return [.. names.Split(',', StringSplitOptions.TrimEntries).Select(name =>
            KernelBenchmark.Gpt2Shapes.FirstOrDefault(s => s.Name == name)
            ?? throw new FloverException($"--shapes: '{name}' is not one of {string.Join(", ", KernelBenchmark.Gpt2Shapes.Select(s => s.Name))}."))];
    }

    private static void WriteTable(BenchKernelsReport report, string? whyNot, TextWriter output)
    {
        output.WriteLine($"matmul GFLOP/s, {report.Threads} thread(s); OpenBLAS: {report.OpenBlas ?? whyNot}");
        output.WriteLine($"{"shape",-12} {"m",4} {"k",5} {"n",6} {"dtype",5} {"flover",8} {"openblas",9} {"ratio",6} {"rel diff",9}");
        foreach (BenchKernelsRow row in report.Shapes)
        {
            string blas = row.OpenBlasGflops is { } b ? b.ToString("F1", CultureInfo.InvariantCulture) : "-";
            string ratio = row.Ratio is { } r ? r.ToString("F2", CultureInfo.InvariantCulture) : "-";
            string difference = row.RelativeDifference is { } d ? d.ToString("0.0E+0", CultureInfo.InvariantCulture) : "-";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{row.Name,-12} {row.M,4} {row.K,5} {row.N,6} {row.DType,5} {row.Gflops,8:F1} {blas,9} {ratio,6} {difference,9}"));
        }
    }
}

/// <summary>The <c>--json</c> output of <c>bench-kernels</c>.</summary>
internal sealed record BenchKernelsReport(int Threads, [property: JsonPropertyName("openblas")] string? OpenBlas, IReadOnlyList<BenchKernelsRow> Shapes);

/// <summary>One measurement as issue 6 names its fields (<c>ratio</c> = flover / openblas; <c>rel_diff</c>: relative L2 distance of the outputs).</summary>
internal sealed record BenchKernelsRow(
    string Name,
    int M,
    int K,
    int N,
    [property: JsonPropertyName("dtype")] string DType,
    double Gflops,
    [property: JsonPropertyName("openblas_gflops")] double? OpenBlasGflops,
    double? Ratio,
    [property: JsonPropertyName("rel_diff")] double? RelativeDifference)
{
    public static BenchKernelsRow From(KernelMeasurement m) => new(
        m.Shape.Name,
        m.M,
        m.Shape.K,
        m.Shape.N,
        m.DType.ToName(),
        m.Gflops,
        m.OpenBlasGflops,
        m.OpenBlasGflops is { } blas ? m.Gflops / blas : null,
        m.RelativeDifference);
}
