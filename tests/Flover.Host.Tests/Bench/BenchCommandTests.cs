using System.Text.Json;
using System.Xml.Linq;
using Flover.Host.Tests.Cli;

namespace Flover.Host.Tests.Bench;

[Trait("Category", "Slow")]
public sealed class BenchCommandTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flover-bench-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void A_tensor_parallel_bench_gives_every_request_the_tokens_of_the_other_schedulers_and_refuses_instances()
    {
        CliResult result = CliRunner.Run(
            "bench", "--preset", "tiny", "--schedulers", "fused,sequential", "--tensor-parallel", "2", "--interval-ms", "2",
            "--requests", "4", "--prompt-len", "3", "--output-len", "4", "--threads", "2", "--out", _directory, "--json");
        CliResult refused = CliRunner.Run("bench", "--preset", "tiny", "--schedulers", "fused,instances", "--tensor-parallel", "2", "--out", _directory);

        // The bench itself fails when two schedulers give a request different tokens.
        Assert.True(result.ExitCode == 0, result.Stderr);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        Assert.Equal(2, document.RootElement.GetProperty("runs").GetArrayLength());
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("--tensor-parallel applies to the fused, dynamic and sequential schedulers", refused.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_llama_preset_runs_every_scheduler_but_instances_with_the_same_tokens_and_tensor_parallel_too()
    {
        CliResult result = CliRunner.Run(
            "bench", "--preset", "llama-tiny", "--schedulers", "fused,dynamic,sequential", "--memory-modes", "indexed,shuffle", "--interval-ms", "2",
            "--requests", "4", "--prompt-len", "3", "--output-len", "uniform:2:5", "--threads", "2", "--set", "flover.scheduler.dynamic.max-queue-delay=5ms", "--out", _directory, "--json");
        CliResult split = CliRunner.Run(
            "bench", "--preset", "llama-tiny", "--schedulers", "fused", "--tensor-parallel", "2", "--interval-ms", "2",
            "--requests", "3", "--prompt-len", "3", "--output-len", "4", "--threads", "2", "--out", _directory, "--json");
        CliResult refused = CliRunner.Run("bench", "--preset", "llama-tiny", "--schedulers", "fused,instances", "--out", _directory);

        // The bench itself fails when two schedulers give a request different tokens.
        Assert.True(result.ExitCode == 0, result.Stderr);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        Assert.Equal(4, document.RootElement.GetProperty("runs").GetArrayLength());
        Assert.StartsWith("preset 'llama-tiny'", document.RootElement.GetProperty("workload").GetProperty("model").GetString(), StringComparison.Ordinal);
        Assert.True(split.ExitCode == 0, split.Stderr);
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal(
            "error: preset 'llama-tiny' (seed 20230517, random weights) is a LLaMA model: the instances scheduler shares one upload of GPT-2 weights among its instances, which LLaMA models do not yet; use --schedulers fused,dynamic,sequential.",
            refused.Stderr.Trim().Split('\n')[^1]);
    }

    [Fact]
    public void A_tiny_bench_writes_every_output_with_one_run_per_scheduler_and_fused_memory_mode()
    {
        CliResult result = CliRunner.Run(
            "bench", "--preset", "tiny", "--schedulers", "fused,dynamic,instances,sequential", "--memory-modes", "indexed,shuffle",
            "--arrival", "poisson", "--interval-ms", "2", "--requests", "6", "--prompt-len", "4", "--output-len", "uniform:2:6",
            "--seeds", "1,2", "--threads", "2", "--set", "flover.scheduler.dynamic.max-queue-delay=5ms", "--out", _directory);

        Assert.True(result.ExitCode == 0, result.Stderr);
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(Path.Combine(_directory, "results.json")));
        JsonElement[] runs = [.. document.RootElement.GetProperty("runs").EnumerateArray()];
        Assert.Equal(
            ["fused/indexed", "fused/shuffle", "dynamic/n/a", "instances/n/a", "sequential/n/a"],
            runs.Select(r => $"{r.GetProperty("scheduler").GetString()}/{r.GetProperty("memory_mode").GetString()}"));
        Assert.All(runs, r => Assert.Equal(6, r.GetProperty("requests").GetInt32()));
        Assert.All(runs, r => Assert.True(r.GetProperty("makespan_s").GetDouble() > 0));
        Assert.All(runs, r => Assert.InRange(r.GetProperty("output_tokens").GetDouble(), 12, 36));
        Assert.Equal(6, document.RootElement.GetProperty("workload").GetProperty("step_time_s").GetArrayLength());
        Assert.Equal(5, document.RootElement.GetProperty("workload").GetProperty("dynamic_max_queue_delay_ms").GetDouble());
        XDocument.Parse(File.ReadAllText(Path.Combine(_directory, "latency.svg")));
        XDocument.Parse(File.ReadAllText(Path.Combine(_directory, "step-time.svg")));
        string summary = File.ReadAllText(Path.Combine(_directory, "summary.md"));
        Assert.Contains("| fused/shuffle |", summary, StringComparison.Ordinal);
        Assert.Contains("vs instances", summary, StringComparison.Ordinal);
        Assert.Equal(summary, result.Stdout);
        Assert.Contains("TTFT = first generated token delivered − arrival", File.ReadAllText(Path.Combine(_directory, "README.md")), StringComparison.Ordinal);
        Assert.Contains("seed 2, sequential/n/a", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--output-len", "uniform:9", "uniform:MIN:MAX")]
    [InlineData("--schedulers", "fused,static", "'static'")]
    [InlineData("--memory-modes", "paged", "'paged'")]
    [InlineData("--arrival", "bursty", "poisson, constant")]
    [InlineData("--seeds", "1,x", "'x'")]
    [InlineData("--requests", "0", "--requests must be positive")]
    public void Bad_flags_fail_on_one_line_naming_the_problem(string option, string value, string expected)
    {
        CliResult result = CliRunner.Run("bench", "--preset", "tiny", option, value, "--out", _directory);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_directory));
    }

    [Fact]
    public void Seed_and_seeds_together_are_refused()
    {
        CliResult result = CliRunner.Run("bench", "--preset", "tiny", "--seed", "1", "--seeds", "1,2", "--out", _directory);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--seed or --seeds", result.Stderr, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
