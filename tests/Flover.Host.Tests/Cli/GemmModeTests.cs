using System.Text.Json;
using Flover.Host.Cli;

namespace Flover.Host.Tests.Cli;

/// <summary>
/// <c>flover.engine.batch-invariant</c> at the command line: <c>info</c> names the mode and what the
/// fast one gives up, and off on the CPU is refused at start-up in one line, never ignored.
/// </summary>
public sealed class GemmModeTests
{
    private const string Refusal = "error: flover.engine.batch-invariant = off needs a CUDA device (cuBLAS tensor cores); device cpu has only the batch-invariant kernels.";

    [Fact]
    public void Info_with_the_fast_mode_says_it_gives_up_batch_invariance_and_exact_failover()
    {
        CliResult text = CliRunner.Run("info", "--preset", "tiny", "--set", "flover.engine.batch-invariant=off");
        CliResult json = CliRunner.Run("info", "--preset", "tiny", "--set", "flover.engine.batch-invariant=off", "--json");

        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Equal("gemm                fast (flover.engine.batch-invariant = off): cuBLAS tensor cores, NOT batch invariant: fused != alone bitwise, no exact failover", text.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
        JsonElement gemm = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("gemm");
        Assert.Equal(("fast", false, false), (gemm.GetProperty("mode").GetString(), gemm.GetProperty("batch_invariant").GetBoolean(), gemm.GetProperty("exact_failover").GetBoolean()));
    }

    [Fact]
    public void Info_json_names_the_default_mode()
    {
        CliResult json = CliRunner.Run("info", "--preset", "tiny", "--json");

        JsonElement gemm = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("gemm");
        Assert.Equal(("batch-invariant", true, true), (gemm.GetProperty("mode").GetString(), gemm.GetProperty("batch_invariant").GetBoolean(), gemm.GetProperty("exact_failover").GetBoolean()));
    }

    [Theory]
    [InlineData("info")]
    [InlineData("generate", "--prompt", "Hi", "--max-tokens", "1")]
    [InlineData("serve", "--port", "0")]
    [InlineData("bench-decode", "--batch", "1", "--steps", "1")]
    public void Off_on_the_cpu_is_refused_at_start_up_in_one_line(string command, params string[] rest)
    {
        CliResult result = CliRunner.Run([command, "--preset", "tiny", .. rest, "--device", "cpu", "--set", "flover.engine.batch-invariant=off"]);

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.Equal(string.Empty, result.Stdout);
        Assert.Equal(Refusal, Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error:", StringComparison.Ordinal)));
    }

    [Fact]
    public void Bench_decode_says_which_gemm_mode_it_times()
    {
        CliResult result = CliRunner.Run("bench-decode", "--preset", "tiny", "--batch", "1", "--steps", "1", "--warmup", "0", "--bandwidth-mb", "0");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("bench-decode: GEMM batch-invariant (flover.engine.batch-invariant = on): fused == alone bitwise, exact failover\n", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_refuses_the_fast_mode_because_it_compares_the_schedulers_tokens()
    {
        CliResult result = CliRunner.Run("bench", "--preset", "tiny", "--out", "unused", "--requests", "1", "--set", "flover.engine.batch-invariant=off");

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.Contains("error: flover bench compares the schedulers' tokens, which needs flover.engine.batch-invariant = on; time the fast GEMM mode with bench-decode.", result.Stderr, StringComparison.Ordinal);
    }
}
