using System.Diagnostics;
using System.Text.Json;
using Flover.Configuration;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Sampling;
using Flover.Host.Bench;
using Flover.Host.Cli;
using Xunit.Abstractions;

namespace Flover.Host.Tests.Cli;

/// <summary><c>--device</c> and <c>flover.engine.device</c> on the commands that run a model.</summary>
public sealed class DeviceOptionTests(ITestOutputHelper output)
{
    /// <summary>
    /// A CUDA device that cannot be opened here: plain <c>cuda</c> on a host without a driver or GPU
    /// (CI), <c>cuda:99</c> where there is one, so the test fails the same way on both.
    /// </summary>
    private static string UnopenableCuda => IlgpuDevices.CudaAvailable(out _) ? "cuda:99" : "cuda";

    [Fact]
    public void Generate_on_a_cuda_device_that_cannot_open_is_one_line_and_exit_1()
    {
        CliResult result = CliRunner.Run("generate", "--preset", "tiny", "--prompt", "Hi", "--max-tokens", "2", "--threads", "1", "--device", UnopenableCuda);

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.Equal(string.Empty, result.Stdout);
        string line = Assert.Single(Lines(result.Stderr));
        Assert.StartsWith("error: flover.engine.device = cuda:", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Serve_on_a_cuda_device_that_cannot_open_fails_before_serving()
    {
        CliResult result = CliRunner.Run("serve", "--preset", "tiny", "--port", "0", "--threads", "1", "--device", UnopenableCuda);

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        // Nothing on stdout: the URL line is only written once requests are accepted.
        Assert.Equal(string.Empty, result.Stdout);
        // Progress ("serve: loading ...") may precede it; the error itself is one line, the last.
        string[] lines = Lines(result.Stderr);
        Assert.Single(lines, l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.StartsWith("error: flover.engine.device = cuda:", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Serve_with_tensor_parallel_shards_on_a_cuda_device_that_cannot_open_fails_before_serving()
    {
        CliResult result = CliRunner.Run("serve", "--preset", "tiny", "--port", "0", "--threads", "1", "--tensor-parallel", "2", "--device", UnopenableCuda);

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.Equal(string.Empty, result.Stdout);
        Assert.StartsWith("error: flover.engine.device = cuda:", Lines(result.Stderr)[^1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("generate", "--prompt", "Hi", "--max-tokens", "2")]
    [InlineData("serve", "--port", "0")]
    [InlineData("bench-decode", "--batch", "1", "--steps", "1")]
    [InlineData("bench", "--out", "unused", "--requests", "1")]
    [InlineData("info")]
    public void A_device_that_is_no_device_names_the_allowed_forms(string command, params string[] rest)
    {
        CliResult result = CliRunner.Run([command, "--preset", "tiny", .. rest, "--device", "gpu0"]);

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        string line = Assert.Single(Lines(result.Stderr), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Equal("error: --device must be cpu, cuda or cuda:N (N a device number), not 'gpu0'.", line);
    }

    [Fact]
    public void A_configured_device_that_is_no_device_names_the_key_the_value_and_the_forms()
    {
        CliResult result = CliRunner.Run("generate", "--preset", "tiny", "--prompt", "Hi", "--max-tokens", "1", "--set", "flover.engine.device=gpu0");

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        string line = Assert.Single(Lines(result.Stderr));
        Assert.Contains("setting 'flover.engine.device' must be cpu, cuda or cuda:N (N a device number) but is 'gpu0'", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData(" CPU ")]
    [InlineData("cuda")]
    [InlineData("Cuda:0")]
    [InlineData("cuda:12")]
    [InlineData("gpu0")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:+1")]
    [InlineData("cuda:1x")]
    [InlineData("cuda:99999999999")]
    [InlineData("ilgpu-cpu")]
    [InlineData("")]
    public void The_setting_accepts_exactly_what_DeviceSpec_parses(string value)
    {
        // Flover.Configuration depends on nothing of ours, so it repeats DeviceSpec.Parse's rule.
        bool parses = Accepts(() => DeviceSpec.Parse(value));
        Config config = ConfigurationFactory.ParseString($"flover.engine.device = \"{value}\"").WithFallback(FloverConfiguration.Load(new ConfigurationSources()));

        bool reads = Accepts(() => FloverSettings.From(config));

        Assert.Equal(parses, reads);
        if (reads)
        {
            Assert.Equal(DeviceSpec.Parse(value), DeviceSpec.Parse(FloverSettings.From(config).Engine.Device));
        }
    }

    [Fact]
    public void The_default_device_is_the_cpu()
    {
        FloverSettings settings = FloverSettings.From(FloverConfiguration.Load(new ConfigurationSources()));

        Assert.Equal("cpu", settings.Engine.Device);
    }

    [Fact]
    public void Info_prints_the_device_it_opened()
    {
        CliResult result = CliRunner.Run("info", "--preset", "tiny", "--device", "cpu", "--json");

        Assert.True(result.ExitCode == 0, result.Stderr);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        Assert.Equal("cpu", document.RootElement.GetProperty("device").GetProperty("name").GetString());
        CliResult text = CliRunner.Run("info", "--preset", "tiny", "--device", "cpu");
        Assert.Contains(Lines(text.Stdout), l => l.StartsWith("device", StringComparison.Ordinal) && l.Contains("cpu (", StringComparison.Ordinal));
    }

    [Fact]
    public void Help_of_every_model_command_lists_device()
    {
        foreach (string command in new[] { "serve", "generate", "bench-decode", "bench", "info" })
        {
            Assert.Contains("--device", CliRunner.Run(command, "--help").Stdout, StringComparison.Ordinal);
        }

        // bench-kernels compares the CPU engine with OpenBLAS: it has no --device option (its description says so).
        Assert.DoesNotContain(Lines(CliRunner.Run("bench-kernels", "--help").Stdout), l => l.StartsWith("--device", StringComparison.Ordinal));
        Assert.Contains("CPU only", CliRunner.Run("bench-kernels", "--help").Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// <c>generate</c>'s whole path (load, tensor-parallel model, sampler, tokenizer) on ILGPU's CPU
    /// accelerator gives the CPU engine's greedy tokens. The oracle is never a value of the setting
    /// (DeviceSpec.Parse refuses it), so the device is set on the request the option parsing builds.
    /// </summary>
    [Fact]
    public void Generate_on_ilgpu_cpu_gives_the_cpu_engines_greedy_tokens()
    {
        int[] cpu = GenerateIds(DeviceSpec.Cpu);
        var clock = Stopwatch.StartNew();
        int[] ilgpu = GenerateIds(new DeviceSpec(AcceleratorKind.IlgpuCpu));
        output.WriteLine($"ilgpu-cpu generate: {clock.Elapsed.TotalSeconds:F2} s");

        Assert.Equal(4, cpu.Length);
        Assert.Equal(cpu, ilgpu);
    }

    /// <summary>
    /// The paper's experiment on a device: the instances baseline runs there too, each instance on a
    /// stream sibling of the home accelerator and a thread of its own, and the bench's own check
    /// (every scheduler gives every request the same tokens) holds.
    /// </summary>
    [Fact]
    public void Bench_on_ilgpu_cpu_runs_instances_concurrently_on_streams_of_their_own_with_the_fused_loops_tokens()
    {
        var settings = new BenchSettings(
            null, "tiny", ["fused", "instances"], ["indexed"], "poisson", 5, 3, 4, OutputLengthSpec.Parse("4"), [1], null, 1,
            FloverSettings.From(Http.TinyServerFixture.TestConfig("flover.engine.threads = 1")))
        {
            Device = new DeviceSpec(AcceleratorKind.IlgpuCpu),
        };

        (BenchResults results, _) = BenchRunner.Run(settings, TextWriter.Null);

        Assert.Equal(["fused", "instances"], results.Runs.Select(r => r.Scheduler));
        Assert.All(results.Runs, r => Assert.Equal(3 * 4, r.OutputTokens));
        Assert.Contains("CUDA stream", results.Workload.InstancesConcurrency, StringComparison.Ordinal);
        Assert.Contains("(each on a CUDA stream and a host thread of its own", SummaryWriter.Write(results, "flover bench"), StringComparison.Ordinal);
    }

    private static int[] GenerateIds(DeviceSpec device)
    {
        var request = new GenerateRequest(
            null,
            "tiny",
            "Hello",
            null,
            Http.TinyServerFixture.TestConfig("flover.engine.threads = 1"),
            new SamplingParameters { MaxTokens = 4, Temperature = 0, IgnoreEos = true, Seed = 1 })
        {
            Device = device,
        };
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exitCode = GenerateCommand.Run(request, json: true, new CliConsole(new StringReader(string.Empty), stdout, stderr));
        Assert.True(exitCode == 0, stderr.ToString());
        Assert.Contains(device == DeviceSpec.Cpu ? "worker thread" : "ILGPU CPU accelerator", stderr.ToString(), StringComparison.Ordinal);
        using JsonDocument document = JsonDocument.Parse(stdout.ToString());
        return [.. document.RootElement.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32())];
    }

    private static bool Accepts(Action read)
    {
        try
        {
            read();
            return true;
        }
        catch (Exception exception) when (exception is FloverException or ConfigurationException)
        {
            return false;
        }
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
