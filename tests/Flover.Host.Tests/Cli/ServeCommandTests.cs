using System.Net;
using System.Net.Sockets;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Tests.Checkpoints;
using Flover.Host.Cli;

namespace Flover.Host.Tests.Cli;

/// <summary><c>flover serve</c>'s command line: bad settings fail at once with one line, before any model is loaded.</summary>
public sealed class ServeCommandTests
{
    [Fact]
    public void A_host_that_is_not_an_address_is_a_user_error()
    {
        CliResult result = CliRunner.Run("serve", "--preset", "tiny", "--host", "example host");

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.Contains("flover.http.host = 'example host' is not an IP address", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public void A_port_out_of_range_is_a_user_error()
    {
        CliResult result = CliRunner.Run("serve", "--preset", "tiny", "--port", "70000");

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.Contains("--port must be from 0 to 65535", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--tensor-parallel", "5", "12 attention heads cannot be split evenly over 5")]
    [InlineData("--tensor-parallel", "0", "flover.parallel.tensor")]
    [InlineData("--dtype", "fp8", "'fp8'")]
    [InlineData("--kv-dtype", "f8", "--kv-dtype takes f32, f16 or bf16; 'f8' is none of them.")]
    public void Bad_engine_shorthands_are_user_errors_naming_the_problem(string option, string value, string expected)
    {
        CliResult result = CliRunner.Run("serve", "--preset", "tiny", "--port", "0", option, value);

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public void An_unknown_preset_is_a_user_error_naming_the_presets()
    {
        CliResult result = CliRunner.Run("serve", "--preset", "huge", "--port", "0");

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.Contains("Unknown preset 'huge'", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_port_in_use_is_a_user_error_naming_it()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;

        CliResult result = CliRunner.Run("serve", "--preset", "tiny", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--set", "flover.engine.threads=1", "--set", "flover.engine.kv-slots=1");

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        // One line, before the model is loaded (no "loading" progress line).
        Assert.Equal($"error: cannot listen on 127.0.0.1:{port}: address already in use", result.Stderr.TrimEnd());
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public void A_kv_pool_larger_than_memory_is_one_line_naming_the_setting_not_an_out_of_memory()
    {
        // A checkpoint (a preset is checked before generation, below) with a million positions: 65536
        // slots, inside kv-slots' range, make a pool of tens of terabytes.
        string folder = Directory.CreateTempSubdirectory("flover-serve-memory-").FullName;
        Gpt2Config config = TestCheckpoint.Config with { VocabularySize = 50257, BosTokenId = 50256, EosTokenId = 50256, MaxPositions = 1 << 20 };
        TestCheckpoint.Write(folder, TestCheckpoint.Weights(config, TensorDType.F16, withBuffers: false), TestCheckpoint.ConfigJson(config));
        TokenizeCommandTests.WriteGpt2Files(folder);
        CliResult result;
        try
        {
            result = CliRunner.Run("serve", "--model", folder, "--port", "0", "--set", "flover.engine.kv-slots=65536");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        string error = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        Assert.StartsWith("error: the model does not fit in memory: weights ", error, StringComparison.Ordinal);
        Assert.Contains("(65536 slots; flover.engine.kv-slots)", error, StringComparison.Ordinal);
        Assert.Contains("available. Lower flover.engine.kv-slots", error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public void A_preset_that_cannot_fit_is_one_line_before_its_weights_are_generated()
    {
        // gptj-6b's F32 weights alone are 22 GiB; 65536 slots of 2048 positions are 112 TiB more.
        CliResult result = CliRunner.Run("serve", "--preset", "gptj-6b", "--port", "0", "--set", "flover.engine.kv-slots=65536");

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        string error = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        Assert.StartsWith("error: preset 'gptj-6b' does not fit in memory: generated weights ", error, StringComparison.Ordinal);
        Assert.Contains("(65536 slots; flover.engine.kv-slots)", error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public void Help_lists_the_serve_options()
    {
        CliResult result = CliRunner.Run("serve", "--help");

        Assert.Equal(0, result.ExitCode);
        foreach (string option in new[] { "--model", "--preset", "--config", "--set", "--host", "--port" })
        {
            Assert.Contains(option, result.Stdout, StringComparison.Ordinal);
        }
    }
}
