using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Tests.Checkpoints;

public sealed class SafetensorsFileTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("flover-safetensors-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Tensors_of_every_supported_dtype_are_read_with_their_shapes_and_values()
    {
        var writer = new SafetensorsWriter()
            .Add("a", TensorDType.F32, [2, 3], [1, -2, 3.5f, 0, 1e-3f, -7])
            .Add("b", TensorDType.F16, [3], [0.5f, -1.25f, 65504])
            .Add("c", TensorDType.BF16, [1, 2], [-3.0f, 1.5e30f]);

        using SafetensorsFile file = Open(writer);

        Assert.Equal(["a", "b", "c"], file.Entries.Select(e => e.Name));
        TensorView a = file.GetView("a");
        Assert.Equal(TensorDType.F32, a.DType);
        Assert.Equal([2L, 3L], a.Shape);
        Assert.Equal([1, -2, 3.5f, 0, 1e-3f, -7], TestCheckpoint.Read(a));
        Assert.Equal([0.5f, -1.25f, 65504], TestCheckpoint.Read(file.GetView("b")));
        Assert.Equal([-3.0f, BFloat16Bits.ToSingle(BFloat16Bits.FromSingle(1.5e30f))], TestCheckpoint.Read(file.GetView("c")));
    }

    [Fact]
    public void A_view_can_carry_another_name_than_the_stored_one()
    {
        using SafetensorsFile file = Open(new SafetensorsWriter().Add("transformer.wte.weight", TensorDType.F32, [1], [1]));

        Assert.Equal("wte.weight", file.GetView("transformer.wte.weight", "wte.weight").Name);
    }

    [Fact]
    public void Empty_tensors_and_a_header_without_metadata_are_valid()
    {
        var writer = new SafetensorsWriter { WriteMetadata = false }
            .Add("empty", TensorDType.F32, [0, 4], [])
            .Add("one", TensorDType.F16, [1], [2]);

        using SafetensorsFile file = Open(writer);

        Assert.Equal(0, file.GetView("empty").ElementCount);
        Assert.Equal([2f], TestCheckpoint.Read(file.GetView("one")));
    }

    [Fact]
    public void A_file_shorter_than_the_length_prefix_is_reported_truncated()
    {
        string path = Path.Combine(_root, "model.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);

        var error = Assert.Throws<FloverException>(() => SafetensorsFile.Open(path));

        Assert.Equal($"{path}: the file is truncated: 3 bytes, fewer than the 8-byte header length that starts every safetensors file.", error.Message);
    }

    [Fact]
    public void A_header_length_beyond_the_file_is_reported()
    {
        var writer = Small();
        writer.HeaderLengthOverride = 1_000_000;

        string message = OpenFails(writer);

        Assert.Contains("model.safetensors: the header length 1000000 runs beyond the end of the file", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_length_over_the_safetensors_limit_is_reported()
    {
        string path = Path.Combine(_root, "model.safetensors");
        using (var stream = File.Create(path))
        {
            stream.Write(BitConverter.GetBytes(100_000_001UL));
            stream.SetLength(100_000_100); // sparse: costs no disk
        }

        var error = Assert.Throws<FloverException>(() => SafetensorsFile.Open(path));

        Assert.Equal($"{path}: the header length 100000001 exceeds the safetensors limit of 100000000 bytes.", error.Message);
    }

    [Fact]
    public void A_header_that_is_not_json_is_reported_as_such()
    {
        var writer = Small();
        writer.HeaderOverride = "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]";

        string message = OpenFails(writer);

        Assert.StartsWith(Path.Combine(_root, "model.safetensors") + ": the safetensors header is not valid JSON (", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_that_is_not_an_object_is_reported()
    {
        var writer = Small();
        writer.HeaderOverride = "[1, 2]  ";

        Assert.EndsWith("model.safetensors: the safetensors header is not a JSON object.", OpenFails(writer), StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_data_section_names_the_tensor_that_runs_past_the_end()
    {
        var writer = Small();
        writer.TruncateBy = 2;

        Assert.EndsWith(
            "model.safetensors: tensor 'b' has data_offsets [8, 16] beyond the 14-byte data section: the file is truncated or its offsets are out of range.",
            OpenFails(writer),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Offsets_out_of_range_name_the_tensor()
    {
        var writer = Small();
        writer.OffsetOverrides["b"] = (8, 1016);
        writer.ShapeOverrides["b"] = [252];

        Assert.EndsWith(
            "model.safetensors: tensor 'b' has data_offsets [8, 1016] beyond the 16-byte data section: the file is truncated or its offsets are out of range.",
            OpenFails(writer),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Overlapping_offsets_name_both_tensors()
    {
        var writer = Small();
        writer.OffsetOverrides["b"] = (4, 12);
        writer.TruncateBy = 4;

        Assert.EndsWith("model.safetensors: tensor 'b' [4, 12) overlaps tensor 'a' [0, 8).", OpenFails(writer), StringComparison.Ordinal);
    }

    [Fact]
    public void A_hole_between_tensors_is_reported()
    {
        var writer = Small();
        writer.OffsetOverrides["a"] = (0, 8);
        writer.OffsetOverrides["b"] = (12, 20);
        writer.TrailingBytes = 4;

        Assert.EndsWith(
            "model.safetensors: bytes [8, 12) of the data section, between tensor 'a' and tensor 'b', belong to no tensor.",
            OpenFails(writer),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Bytes_after_the_last_tensor_are_reported()
    {
        var writer = Small();
        writer.TrailingBytes = 3;

        Assert.EndsWith(
            "model.safetensors: the data section has 19 bytes but tensors cover only 16; the 3 bytes after tensor 'b' (the last one) belong to no tensor.",
            OpenFails(writer),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Offsets_that_disagree_with_the_shape_name_the_tensor_and_both_sizes()
    {
        var writer = Small();
        writer.ShapeOverrides["a"] = [3];

        Assert.EndsWith(
            "model.safetensors: tensor 'a' has shape [3] of F32 (12 bytes) but data_offsets [0, 8] hold 8 bytes.",
            OpenFails(writer),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Offsets_that_end_before_they_begin_are_reported()
    {
        var writer = Small();
        writer.OffsetOverrides["a"] = (8, 0);

        Assert.EndsWith("model.safetensors: tensor 'a' has data_offsets [8, 0] that end before they begin.", OpenFails(writer), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_dtype_is_reported_with_the_tensor_and_the_dtype()
    {
        var writer = Small().AddRaw("q", "Q4_K", [2], [0, 0]);

        Assert.EndsWith(
            "model.safetensors: tensor 'q' has unsupported dtype 'Q4_K' (Flover reads F32, F16 and BF16).",
            OpenFails(writer),
            StringComparison.Ordinal);
    }

    [Fact]
    public void A_known_dtype_Flover_cannot_compute_with_fails_only_when_the_tensor_is_used()
    {
        using SafetensorsFile file = Open(Small().AddRaw("ids", "I64", [1], new byte[8]));

        var error = Assert.Throws<FloverException>(() => file.GetView("ids"));

        Assert.Equal($"{file.Path}: tensor 'ids' has unsupported dtype 'I64' (Flover reads F32, F16 and BF16).", error.Message);
    }

    [Fact]
    public void A_tensor_named_twice_is_reported()
    {
        var writer = Small();
        writer.HeaderOverride = writer.HeaderJson().Replace("\"b\":", "\"a\":", StringComparison.Ordinal);

        Assert.EndsWith("model.safetensors: tensor 'a' appears twice in the safetensors header.", OpenFails(writer), StringComparison.Ordinal);
    }

    [Fact]
    public void An_entry_without_data_offsets_is_reported()
    {
        var writer = Small();
        writer.HeaderOverride = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}";

        Assert.EndsWith("model.safetensors: tensor 'a' has no \"data_offsets\" in the safetensors header.", OpenFails(writer), StringComparison.Ordinal);
    }

    [Fact]
    public void A_negative_dimension_is_reported()
    {
        var writer = Small();
        writer.ShapeOverrides["a"] = [-2];

        Assert.EndsWith(
            "model.safetensors: tensor 'a' has a \"shape\" that is not an array of non-negative integers.",
            OpenFails(writer),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Dispose_unmaps_and_releases_the_file()
    {
        string path = Write(Small());
        SafetensorsFile file = SafetensorsFile.Open(path);
        Assert.Throws<IOException>(() => new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose());

        file.Dispose();

        new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.GetView("a"));
    }

    /// <summary>Two F32 tensors: 'a' [2] at [0, 8) and 'b' [2] at [8, 16).</summary>
    private static SafetensorsWriter Small() => new SafetensorsWriter()
        .Add("a", TensorDType.F32, [2], [1, 2])
        .Add("b", TensorDType.F32, [2], [3, 4]);

    private string Write(SafetensorsWriter writer)
    {
        string path = Path.Combine(_root, "model.safetensors");
        writer.Write(path);
        return path;
    }

    private SafetensorsFile Open(SafetensorsWriter writer) => SafetensorsFile.Open(Write(writer));

    private string OpenFails(SafetensorsWriter writer)
    {
        string path = Write(writer);
        return Assert.Throws<FloverException>(() => SafetensorsFile.Open(path)).Message;
    }
}
