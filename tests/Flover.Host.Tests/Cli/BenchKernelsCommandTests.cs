using System.Text.Json;

namespace Flover.Host.Tests.Cli;

public sealed class BenchKernelsCommandTests
{
    [Fact]
    public void Json_output_has_one_entry_per_shape_row_count_and_dtype_beside_openblas_when_installed()
    {
        CliResult result = CliRunner.Run("bench-kernels", "--shapes", "attn.c_proj", "--m", "1,5", "--dtype", "f32,bf16", "--threads", "1", "--json");

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
    public void An_unknown_shape_is_rejected_listing_the_known_ones()
    {
        CliResult result = CliRunner.Run("bench-kernels", "--shapes", "mlp.c_up");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("'mlp.c_up'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("lm_head", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_is_refused_as_a_kernel_dtype()
    {
        CliResult result = CliRunner.Run("bench-kernels", "--dtype", "auto");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--dtype", result.Stderr, StringComparison.Ordinal);
    }
}
