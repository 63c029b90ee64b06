using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models.Llama;
using Flover.Host.Benchmarks;

namespace Flover.Host.Cli;

/// <summary>
/// <c>flover bench-kernels</c>: the matmul's GFLOP/s on GPT-2's and TinyLlama-1.1B's shapes (LM heads
/// included) for several row counts M and weight precisions, next to OpenBLAS (<c>cblas_sgemm</c>,
/// <c>cblas_sgemv</c> at M = 1) on the same shapes and threads when it is installed, with the ratio;
/// LLaMA's shapes also with the weights stored as GPT-2 stores its own. Then the row kernels
/// (RMSNorm, rotary, SwiGLU; GPT-2's LayerNorm and GELU at the same widths) in elements and bytes per second.
/// </summary>
internal static class BenchKernelsCommand
{
    public static Command Create(CliConsole console)
    {
        var rows = new Option<string>("--m") { Description = "Comma-separated row counts M.", DefaultValueFactory = _ => "1,4,16,32,64,256" };
        var shapes = new Option<string?>("--shapes") { Description = "Comma-separated matmul shapes to run (default: all), by name or family (gpt2, tinyllama-1.1b), or none: " + string.Join(", ", KernelBenchmark.AllShapes.Select(s => s.Name)) + "." };
        var rowKernels = new Option<string?>("--row-kernels") { Description = "Comma-separated row kernels to run (default: all), or none: " + string.Join(", ", KernelBenchmark.RowKernelShapes.Select(k => k.Name)) + "." };
        var threads = new Option<int>("--threads") { Description = "Kernel threads (and OpenBLAS threads); 0 = one per core.", DefaultValueFactory = _ => 0 };
        var dtypes = new Option<string>("--dtype") { Description = "Comma-separated weight precisions: f32, f16, bf16.", DefaultValueFactory = _ => "f32" };
        Option<bool> json = CommonOptions.Json();
        var command = new Command("bench-kernels", "Measure the CPU engine's matmul GFLOP/s on the gpt2 shapes against OpenBLAS on the same threads (CPU only: there is no --device; Flover.GpuCheck --bench times the GPU kernels).")
        {
            rows, shapes, rowKernels, threads, dtypes, json,
        };
        command.SetAction(parse =>
        {
            int[] rowCounts = BenchDecodeCommand.ParseBatches(parse.GetValue(rows)!, "--m");
            TensorDType[] precisions = [.. parse.GetValue(dtypes)!.Split(',', StringSplitOptions.TrimEntries)
                .Select(name => TensorDTypeExtensions.ParseWeightDType(name, "--dtype") ?? throw new FloverException("--dtype takes f32, f16 or bf16 here; 'auto' means nothing without a checkpoint."))];
            IReadOnlyList<KernelShape> selected = SelectShapes(parse.GetValue(shapes));
            IReadOnlyList<RowKernelShape> selectedRowKernels = SelectRowKernels(parse.GetValue(rowKernels));
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

            var rowResults = new List<RowKernelMeasurement>();
            foreach (RowKernelShape kernel in selectedRowKernels)
            {
                foreach (int m in rowCounts)
                {
                    RowKernelMeasurement measurement = benchmark.MeasureRowKernel(kernel, m);
                    console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench-kernels: {kernel.Name} m={m} width={kernel.Width}: {measurement.ElementsPerSecond / 1e9:F2} G elements/s, {measurement.BytesPerSecond / 1e9:F1} GB/s"));
                    rowResults.Add(measurement);
                }
            }

            BenchKernelsRow[] measured = [.. results.Select(BenchKernelsRow.From)];
            var report = new BenchKernelsReport(engine.ResolveThreadCount(), openBlas?.Path, measured, GeometricMean(measured), [.. rowResults.Select(BenchRowKernelsRow.From)]);
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

    /// <summary>The geometric mean of the LLaMA rows' layout ratios (one summary figure for noisy single ratios), or null when there are none.</summary>
    private static double? GeometricMean(IReadOnlyList<BenchKernelsRow> rows)
    {
        double[] ratios = [.. rows.Where(r => r.Gpt2LayoutRatio is not null).Select(r => r.Gpt2LayoutRatio!.Value)];
        return ratios.Length == 0 ? null : Math.Exp(ratios.Average(Math.Log));
    }

    private static IReadOnlyList<KernelShape> SelectShapes(string? names)
    {
        if (names is null)
        {
            return KernelBenchmark.AllShapes;
        }

        if (names == "none")
        {
            return [];
        }

        return [.. names.Split(',', StringSplitOptions.TrimEntries).SelectMany(name => name switch
        {
            "gpt2" => KernelBenchmark.Gpt2Shapes,
            LlamaPresets.TinyLlama1B => KernelBenchmark.LlamaShapes,
            _ => [KernelBenchmark.AllShapes.FirstOrDefault(s => s.Name == name)
                ?? throw new FloverException($"--shapes: '{name}' is not gpt2, {LlamaPresets.TinyLlama1B}, none or one of {string.Join(", ", KernelBenchmark.AllShapes.Select(s => s.Name))}.")],
        }).Distinct()];
    }

    private static IReadOnlyList<RowKernelShape> SelectRowKernels(string? names)
    {
        if (names is null)
        {
            return KernelBenchmark.RowKernelShapes;
        }

        if (names == "none")
        {
            return [];
        }

        return [.. names.Split(',', StringSplitOptions.TrimEntries).Select(name =>
            KernelBenchmark.RowKernelShapes.FirstOrDefault(k => k.Name == name)
            ?? throw new FloverException($"--row-kernels: '{name}' is not none or one of {string.Join(", ", KernelBenchmark.RowKernelShapes.Select(k => k.Name))}.")).Distinct()];
    }

    private static void WriteTable(BenchKernelsReport report, string? whyNot, TextWriter output)
    {
        output.WriteLine($"matmul GFLOP/s, {report.Threads} thread(s); OpenBLAS: {report.OpenBlas ?? whyNot}");
        output.WriteLine("(gpt2 layout: LLaMA's shape with the weights stored [K, N] as GPT-2 stores its own; vs: flover / gpt2 layout)");
        output.WriteLine($"{"shape",-13} {"m",4} {"k",5} {"n",6} {"dtype",5} {"flover",8} {"openblas",9} {"ratio",6} {"rel diff",9} {"gpt2 layout",11} {"vs",5}");
        foreach (BenchKernelsRow row in report.Shapes)
        {
            string blas = row.OpenBlasGflops is { } b ? b.ToString("F1", CultureInfo.InvariantCulture) : "-";
            string ratio = row.Ratio is { } r ? r.ToString("F2", CultureInfo.InvariantCulture) : "-";
            string difference = row.RelativeDifference is { } d ? d.ToString("0.0E+0", CultureInfo.InvariantCulture) : "-";
            string gpt2 = row.Gpt2LayoutGflops is { } g ? g.ToString("F1", CultureInfo.InvariantCulture) : "-";
            string versus = row.Gpt2LayoutRatio is { } v ? v.ToString("F2", CultureInfo.InvariantCulture) : "-";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{row.Name,-13} {row.M,4} {row.K,5} {row.N,6} {row.DType,5} {row.Gflops,8:F1} {blas,9} {ratio,6} {difference,9} {gpt2,11} {versus,5}"));
        }

        if (report.Gpt2LayoutRatioGeometricMean is { } mean)
        {
            double[] ratios = [.. report.Shapes.Where(r => r.Gpt2LayoutRatio is not null).Select(r => r.Gpt2LayoutRatio!.Value)];
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"LLaMA shapes / the same products in GPT-2's layout: geometric mean {mean:F3} over {ratios.Length} (range {ratios.Min():F2}-{ratios.Max():F2})"));
        }

        if (report.RowKernels.Count > 0)
        {
            output.WriteLine();
            output.WriteLine($"row kernels, {report.Threads} thread(s): output elements and bytes (read + written) per second");
            output.WriteLine($"{"kernel",-10} {"family",-6} {"m",4} {"width",6} {"G elem/s",9} {"GB/s",7}");
            foreach (BenchRowKernelsRow row in report.RowKernels)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{row.Name,-10} {row.Family,-6} {row.M,4} {row.Width,6} {row.GigaElementsPerSecond,9:F3} {row.GigabytesPerSecond,7:F2}"));
            }
        }
    }
}

/// <summary>The <c>--json</c> output of <c>bench-kernels</c>.</summary>
internal sealed record BenchKernelsReport(
    int Threads,
    [property: JsonPropertyName("openblas")] string? OpenBlas,
    IReadOnlyList<BenchKernelsRow> Shapes,
    [property: JsonPropertyName("gpt2_layout_ratio_geomean")] double? Gpt2LayoutRatioGeometricMean,
    IReadOnlyList<BenchRowKernelsRow> RowKernels);

/// <summary>
/// One measurement as issue 6 names its fields (<c>ratio</c> = flover / openblas; <c>rel_diff</c>:
/// relative L2 distance of the outputs); for LLaMA's shapes also <c>gpt2_layout_gflops</c> (the same
/// product, weights stored [K, N] as GPT-2's) and <c>gpt2_layout_ratio</c> = gflops / gpt2_layout_gflops.
/// </summary>
internal sealed record BenchKernelsRow(
    string Name,
    int M,
    int K,
    int N,
    [property: JsonPropertyName("dtype")] string DType,
    double Gflops,
    [property: JsonPropertyName("openblas_gflops")] double? OpenBlasGflops,
    double? Ratio,
    [property: JsonPropertyName("rel_diff")] double? RelativeDifference,
    [property: JsonPropertyName("gpt2_layout_gflops")] double? Gpt2LayoutGflops,
    [property: JsonPropertyName("gpt2_layout_ratio")] double? Gpt2LayoutRatio)
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
        m.RelativeDifference,
        m.Gpt2LayoutGflops,
        m.Gpt2LayoutGflops is { } gpt2 ? m.Gflops / gpt2 : null);
}

/// <summary>One row kernel × row count: <c>g_elements_per_s</c> output elements and <c>gb_per_s</c> bytes read and written per second.</summary>
internal sealed record BenchRowKernelsRow(
    string Name,
    string Family,
    int M,
    int Width,
    [property: JsonPropertyName("g_elements_per_s")] double GigaElementsPerSecond,
    [property: JsonPropertyName("gb_per_s")] double GigabytesPerSecond)
{
    public static BenchRowKernelsRow From(RowKernelMeasurement m) =>
        new(m.Kernel.Name, m.Kernel.Family, m.M, m.Kernel.Width, m.ElementsPerSecond / 1e9, m.BytesPerSecond / 1e9);
}
