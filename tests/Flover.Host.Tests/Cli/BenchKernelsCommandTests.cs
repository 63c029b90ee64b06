using System.Text.Json;

namespace Flover.Host.Tests.Cli;

public sealed class BenchKernelsCommandTests
{
    [Fact]
    public void Json_output_has_one_entry_per_shape_row_count_and_dtype_beside_openblas_when_installed()
    {
        CliResult result = CliRunner.Run("bench-kernels", "--shapes", "attn.c_proj", "--row-kernels", "none", "--m", "1,5", "--dtype", "f32,bf16", "--threads", "1", "--json");

        Assert.Equal(0, result.ExitCode);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        JsonElement root = document.RootElement;
        Assert.Equal(1, root.GetProperty("threads").GetInt32());
        JsonElement[] shapes = [.. root.GetProperty("shapes").EnumerateArray()];
        Assert.Equal([(1, "f32"), (5, "f32"), (1, "bf16"), (5, "bf16")], shapes.Select(s => (s.GetProperty("m").GetInt32(), s.GetProperty("dtype").GetString())));
        Assert.All(shapes, s => Assert.Equal((768, 768), (s.GetProperty("k").GetInt32(), s.GetProperty("n").GetInt32())));
        Assert.All(shapes, s => Assert.True(s.GetProperty("gflops").GetDouble() > 0));
        bool openBlas = root.GetProperty("openblas").ValueKind == JsonValueKind.String;
        foreach (JsonElement shape in shapes)
        {
            JsonElement blas = shape.GetProperty("openblas_gflops");
            Assert.Equal(openBlas, blas.ValueKind == JsonValueKind.Number);
            if (openBlas)
            {
                // The same product in F32: the two libraries agree to rounding; BF16 weights differ by their rounding.
                double limit = shape.GetProperty("dtype").GetString() == "f32" ? 1e-5 : 1e-2;
                Assert.InRange(shape.GetProperty("rel_diff").GetDouble(), 0, limit);
            }
        }
    }

    [Fact]
    public void A_llama_shape_is_also_timed_in_gpt2s_weight_layout_and_row_kernels_report_their_rates()
    {
        CliResult result = CliRunner.Run("bench-kernels", "--shapes", "llama.o", "--row-kernels", "rmsnorm,swiglu", "--m", "3", "--threads", "2", "--json");

        Assert.Equal(0, result.ExitCode);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        JsonElement shape = Assert.Single(document.RootElement.GetProperty("shapes").EnumerateArray());
        Assert.Equal(("llama.o", 2048, 2048), (shape.GetProperty("name").GetString(), shape.GetProperty("k").GetInt32(), shape.GetProperty("n").GetInt32()));
        double gflops = shape.GetProperty("gflops").GetDouble();
        double gpt2 = shape.GetProperty("gpt2_layout_gflops").GetDouble();
        Assert.True(gpt2 > 0);
        Assert.Equal(gflops / gpt2, shape.GetProperty("gpt2_layout_ratio").GetDouble(), 1e-12);
        Assert.Equal(gflops / gpt2, document.RootElement.GetProperty("gpt2_layout_ratio_geomean").GetDouble(), 1e-12);
        JsonElement[] rows = [.. document.RootElement.GetProperty("row_kernels").EnumerateArray()];
        // TinyLlama-1.1B's widths: hidden 2048 for RMSNorm, intermediate 5632 for SwiGLU.
        Assert.Equal([("rmsnorm", "llama", 2048), ("swiglu", "llama", 5632)], rows.Select(r => (r.GetProperty("name").GetString(), r.GetProperty("family").GetString(), r.GetProperty("width").GetInt32())));
        Assert.All(rows, r => Assert.Equal(3, r.GetProperty("m").GetInt32()));
        Assert.All(rows, r => Assert.True(r.GetProperty("g_elements_per_s").GetDouble() > 0 && r.GetProperty("gb_per_s").GetDouble() > 0));
    }

    [Fact]
    public void Gpt2_shapes_have_no_layout_comparison_and_none_skips_a_section()
    {
        CliResult result = CliRunner.Run("bench-kernels", "--shapes", "attn.c_proj", "--row-kernels", "none", "--m", "1", "--threads", "1", "--json");

        Assert.Equal(0, result.ExitCode);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        JsonElement shape = Assert.Single(document.RootElement.GetProperty("shapes").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, shape.GetProperty("gpt2_layout_gflops").ValueKind);
        Assert.Equal(JsonValueKind.Null, document.RootElement.GetProperty("gpt2_layout_ratio_geomean").ValueKind);
        Assert.Empty(document.RootElement.GetProperty("row_kernels").EnumerateArray());
    }

    [Fact]
    public void An_unknown_row_kernel_is_rejected_listing_the_known_ones()
    {
        CliResult result = CliRunner.Run("bench-kernels", "--shapes", "none", "--row-kernels", "softmax");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("'softmax'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("swiglu", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_shape_is_rejected_listing_the_known_ones()
    {
        CliResult result = CliRunner.Run("bench-kernels", "--shapes", "mlp.c_up");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("'mlp.c_up'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("lm_head", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("llama.gate_up", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("tinyllama-1.1b", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_is_refused_as_a_kernel_dtype()
    {
        CliResult result = CliRunner.Run("bench-kernels", "--dtype", "auto");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--dtype", result.Stderr, StringComparison.Ordinal);
    }
}
