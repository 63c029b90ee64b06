using System.Text.Json;

namespace Flover.Host.Tests.Cli;

public sealed class BenchDecodeCommandTests
{
    [Fact]
    public void Json_output_reports_one_run_per_batch_size()
    {
        CliResult result = CliRunner.Run("bench-decode", "--preset", "tiny", "--batch", "1,2", "--prompt-tokens", "3", "--steps", "2", "--threads", "2", "--warmup", "0", "--bandwidth-mb", "0", "--json");

        Assert.Equal(0, result.ExitCode);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        JsonElement root = document.RootElement;
        Assert.Equal(2, root.GetProperty("threads").GetInt32());
        JsonElement[] runs = [.. root.GetProperty("runs").EnumerateArray()];
        Assert.Equal([1, 2], runs.Select(r => r.GetProperty("batch").GetInt32()));
        Assert.All(runs, r => Assert.True(r.GetProperty("tokens_per_s").GetDouble() > 0));
        Assert.All(runs, r => Assert.Equal("f32", r.GetProperty("dtype").GetString()));
        Assert.Contains("batch 2", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Profile_reports_each_phase_per_step_and_the_host_s_share_and_needs_one_shard()
    {
        CliResult result = CliRunner.Run("bench-decode", "--preset", "tiny", "--batch", "2", "--prompt-tokens", "3", "--steps", "2", "--threads", "1", "--warmup", "0", "--bandwidth-mb", "0", "--profile", "--json");

        Assert.Equal(0, result.ExitCode);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        JsonElement[] phases = [.. document.RootElement.GetProperty("runs")[0].GetProperty("profile").EnumerateArray()];
        Assert.Equal(
            ["upload", "embed", "layer-norm", "qkv", "kv-write", "attention", "attention-out", "mlp-up", "mlp-down", "final-norm", "lm-head", "download", "host"],
            phases.Select(p => p.GetProperty("phase").GetString()));
        Assert.InRange(phases.Sum(p => p.GetProperty("share").GetDouble()), 0.99, 1.01);

        CliResult refused = CliRunner.Run("bench-decode", "--preset", "tiny", "--tensor-parallel", "2", "--profile");
        Assert.Equal("error: --profile times the phases of one shard; use --tensor-parallel 1.", refused.Stderr.Trim());
    }

    [Fact]
    public void A_llama_preset_is_measured_like_a_gpt2_one_and_what_llama_cannot_do_yet_is_one_line()
    {
        CliResult result = CliRunner.Run("bench-decode", "--preset", "llama-tiny", "--batch", "1,3", "--prompt-tokens", "3", "--steps", "2", "--threads", "1", "--dtype", "f32,bf16", "--warmup", "0", "--bandwidth-mb", "0", "--json");

        Assert.Equal(0, result.ExitCode);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        Assert.StartsWith("preset 'llama-tiny'", document.RootElement.GetProperty("model").GetString(), StringComparison.Ordinal);
        JsonElement[] runs = [.. document.RootElement.GetProperty("runs").EnumerateArray()];
        Assert.Equal([(1, "f32"), (3, "f32"), (1, "bf16"), (3, "bf16")], runs.Select(r => (r.GetProperty("batch").GetInt32(), r.GetProperty("dtype").GetString())));
        // The matrices halve; the norm gains stay F32.
        Assert.InRange(runs[2].GetProperty("weight_bytes").GetInt64(), runs[0].GetProperty("weight_bytes").GetInt64() / 2, runs[0].GetProperty("weight_bytes").GetInt64() * 0.51);

        string folder = Path.Combine(AppContext.BaseDirectory, "TestData", "llama-mqa-tied-linear");
        Assert.Equal(0, CliRunner.Run("bench-decode", "--model", folder, "--batch", "2", "--prompt-tokens", "2", "--steps", "2", "--threads", "1", "--warmup", "0", "--bandwidth-mb", "0").ExitCode);
        CliResult split = CliRunner.Run("bench-decode", "--preset", "llama-tiny", "--tensor-parallel", "2", "--threads", "2", "--batch", "2", "--prompt-tokens", "2", "--steps", "2", "--warmup", "0", "--bandwidth-mb", "0", "--json");
        Assert.Equal(0, split.ExitCode);
        using (JsonDocument sharded = JsonDocument.Parse(split.Stdout))
        {
            Assert.Equal(2, sharded.RootElement.GetProperty("tensor_parallel").GetInt32());
            Assert.True(sharded.RootElement.GetProperty("runs")[0].GetProperty("weight_bytes").GetInt64() > 0);
        }

        Assert.Equal(
            "error: preset 'llama-tiny' (seed 20230517, random weights): 4 attention heads cannot be split evenly over 3 tensor-parallel shards; use a shard count that divides 4.",
            CliRunner.Run("bench-decode", "--preset", "llama-tiny", "--tensor-parallel", "3", "--warmup", "0", "--bandwidth-mb", "0").Stderr.Trim().Split('\n')[^1]);
        CliResult profiled = CliRunner.Run("bench-decode", "--preset", "llama-tiny", "--batch", "2", "--prompt-tokens", "2", "--steps", "2", "--threads", "1", "--warmup", "0", "--bandwidth-mb", "0", "--profile", "--json");
        Assert.Equal(0, profiled.ExitCode);
        using JsonDocument phases = JsonDocument.Parse(profiled.Stdout);
        Assert.Equal(
            ["upload", "embed", "rms-norm", "qkv", "rotary", "kv-write", "attention", "attention-out", "gate-up", "swiglu", "mlp-down", "final-norm", "lm-head", "download", "host"],
            phases.RootElement.GetProperty("runs")[0].GetProperty("profile").EnumerateArray().Select(p => p.GetProperty("phase").GetString()));
    }

    [Fact]
    public void Each_listed_dtype_gets_its_runs_next_to_the_measured_read_bandwidth()
    {
        CliResult result = CliRunner.Run("bench-decode", "--preset", "tiny", "--batch", "1,3", "--prompt-tokens", "2", "--steps", "2", "--threads", "1", "--dtype", "f32,f16,bf16", "--warmup", "0", "--bandwidth-mb", "8", "--json");

        Assert.Equal(0, result.ExitCode);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        JsonElement root = document.RootElement;
        Assert.True(root.GetProperty("read_bandwidth_gbs").GetDouble() > 0);
        JsonElement[] runs = [.. root.GetProperty("runs").EnumerateArray()];
        Assert.Equal(["f32", "f32", "f16", "f16", "bf16", "bf16"], runs.Select(r => r.GetProperty("dtype").GetString()));
        long[] bytes = [.. runs.Select(r => r.GetProperty("weight_bytes").GetInt64())];
        Assert.True(bytes[2] < bytes[0] * 0.6 && bytes[4] == bytes[2], string.Join(", ", bytes));
        Assert.All(runs, r => Assert.True(r.GetProperty("step_ms").GetDouble() > 0 && r.GetProperty("weight_gbs").GetDouble() > 0));
    }

    [Fact]
    public void Each_listed_kv_dtype_gets_its_runs_and_a_bad_one_is_refused_naming_the_option()
    {
        CliResult result = CliRunner.Run("bench-decode", "--preset", "tiny", "--batch", "1,2", "--prompt-tokens", "2", "--steps", "2", "--threads", "1", "--kv-dtype", "f32,f16,bf16", "--warmup", "0", "--bandwidth-mb", "0", "--json");
        CliResult bad = CliRunner.Run("bench-decode", "--preset", "tiny", "--kv-dtype", "f32,f8");

        Assert.Equal(0, result.ExitCode);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        JsonElement[] runs = [.. document.RootElement.GetProperty("runs").EnumerateArray()];
        Assert.Equal(["f32", "f32", "f16", "f16", "bf16", "bf16"], runs.Select(r => r.GetProperty("kv_dtype").GetString()));
        Assert.All(runs, r => Assert.Equal("f32", r.GetProperty("dtype").GetString()));
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--kv-dtype takes f32, f16 or bf16; 'f8' is none of them.", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Tensor_parallel_runs_report_their_shard_count_and_time_in_collectives()
    {
        CliResult result = CliRunner.Run("bench-decode", "--preset", "tiny", "--batch", "2", "--prompt-tokens", "2", "--steps", "3", "--threads", "2", "--tensor-parallel", "2", "--warmup", "0", "--bandwidth-mb", "0", "--json");

        Assert.Equal(0, result.ExitCode);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        Assert.Equal(2, document.RootElement.GetProperty("tensor_parallel").GetInt32());
        JsonElement run = document.RootElement.GetProperty("runs")[0];
        Assert.True(run.GetProperty("collective_ms_per_step").GetDouble() > 0);
    }

    [Fact]
    public void Across_systems_runs_each_shard_in_its_own_actor_system_over_remoting_and_tcp()
    {
        CliResult result = CliRunner.Run("bench-decode", "--preset", "tiny", "--batch", "2", "--prompt-tokens", "2", "--steps", "3", "--threads", "2", "--tensor-parallel", "2", "--warmup", "0", "--bandwidth-mb", "0", "--across-systems", "--json");

        Assert.Equal(0, result.ExitCode);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        Assert.Equal(2, document.RootElement.GetProperty("tensor_parallel").GetInt32());
        Assert.True(document.RootElement.GetProperty("runs")[0].GetProperty("tokens_per_s").GetDouble() > 0);
    }

    [Fact]
    public void An_unknown_dtype_is_rejected_naming_the_option_and_the_value()
    {
        CliResult result = CliRunner.Run("bench-decode", "--preset", "tiny", "--dtype", "f32,f8");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--dtype", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("'f8'", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_batch_list_with_a_non_number_is_rejected_naming_the_entry()
    {
        CliResult result = CliRunner.Run("bench-decode", "--batch", "1,x");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("'x'", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_longer_than_the_model_positions_is_rejected()
    {
        CliResult result = CliRunner.Run("bench-decode", "--preset", "tiny", "--prompt-tokens", "200", "--steps", "100");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("exceeds the model's 256 positions", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Thread_count_comes_from_flover_engine_threads_when_threads_is_not_given()
    {
        CliResult result = CliRunner.Run("bench-decode", "--preset", "tiny", "--batch", "1", "--prompt-tokens", "2", "--steps", "1", "--set", "flover.engine.threads=3", "--warmup", "0", "--bandwidth-mb", "0", "--json");

        Assert.Equal(0, result.ExitCode);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        Assert.Equal(3, document.RootElement.GetProperty("threads").GetInt32());
    }

    [Fact]
    public void Warm_up_steps_run_before_the_timed_ones_and_are_reported()
    {
        // Two steps fit after the prompt, so the warm-up's eight steps take four prefills.
        CliResult result = CliRunner.Run("bench-decode", "--preset", "tiny", "--batch", "1", "--prompt-tokens", "2", "--steps", "2", "--threads", "1", "--warmup", "0.01", "--bandwidth-mb", "0", "--json");
        CliResult text = CliRunner.Run("bench-decode", "--preset", "tiny", "--batch", "1", "--prompt-tokens", "2", "--steps", "2", "--threads", "1", "--warmup", "0.01", "--bandwidth-mb", "0");
        CliResult none = CliRunner.Run("bench-decode", "--preset", "tiny", "--batch", "1", "--prompt-tokens", "2", "--steps", "2", "--threads", "1", "--warmup", "0", "--bandwidth-mb", "0", "--json");

        Assert.Equal(0, result.ExitCode);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        Assert.Equal(0.01, document.RootElement.GetProperty("warmup_seconds").GetDouble());
        Assert.True(document.RootElement.GetProperty("runs")[0].GetProperty("warmup_steps").GetInt32() >= 8);
        Assert.True(document.RootElement.GetProperty("runs")[0].GetProperty("gc_collections").GetInt32() >= 0);
        Assert.True(document.RootElement.GetProperty("runs")[0].GetProperty("gc_pause_ms").GetDouble() >= 0);
        Assert.Contains("prompt 2 tokens, 2 timed steps after 0.01 s of warm-up", text.Stdout, StringComparison.Ordinal);
        using JsonDocument cold = JsonDocument.Parse(none.Stdout);
        Assert.Equal(0, cold.RootElement.GetProperty("runs")[0].GetProperty("warmup_steps").GetInt32());
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("NaN")]
    public void A_warm_up_outside_0_to_3600_seconds_is_rejected(string seconds)
    {
        CliResult result = CliRunner.Run("bench-decode", "--preset", "tiny", "--warmup", seconds);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: --warmup must be seconds from 0 to 3600, not {seconds}.", result.Stderr.Trim().Split('\n')[^1]);
    }

    [Fact]
    public void A_negative_thread_setting_is_rejected_naming_the_key()
    {
        CliResult result = CliRunner.Run("bench-decode", "--preset", "tiny", "--set", "flover.engine.threads=-2");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("flover.engine.threads", result.Stderr, StringComparison.Ordinal);
    }
}
