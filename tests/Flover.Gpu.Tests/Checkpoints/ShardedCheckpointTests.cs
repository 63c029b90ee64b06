using System.Text.Json.Nodes;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Checkpoints;

public sealed class ShardedCheckpointTests : IDisposable
{
    private const string Shard1 = "model-00001-of-00002.safetensors";
    private const string Shard2 = "model-00002-of-00002.safetensors";

    private readonly string _root = Directory.CreateTempSubdirectory("flover-sharded-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string IndexPath => Path.Combine(_root, Gpt2Checkpoint.IndexFileName);

    [Fact]
    public void Tensors_spread_over_shards_load_like_a_single_file()
    {
        WriteSharded(TensorDType.BF16);

        using IModelWeights weights = Gpt2Checkpoint.Load(_root);

        foreach ((string name, long[] shape) in Gpt2TensorShapes.Required(TestCheckpoint.Config))
        {
            Assert.Equal(TestCheckpoint.ValuesOf(name, shape), TestCheckpoint.Read(weights.Get(name)));
        }
    }

    [Fact]
    public void A_missing_shard_names_the_index_the_shard_and_a_tensor_it_holds()
    {
        WriteSharded();
        File.Delete(Path.Combine(_root, Shard2));

        string message = LoadFails();

        Assert.StartsWith($"{IndexPath}: shard {Shard2} (holding tensor 'transformer.h.1.", message, StringComparison.Ordinal);
        Assert.EndsWith($"') is missing from {_root}.", message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_index_entry_the_shard_does_not_hold_is_reported()
    {
        JsonObject index = WriteSharded();
        index["weight_map"]!["lm_head.weight"] = Shard1;
        File.WriteAllText(IndexPath, index.ToJsonString());

        Assert.Equal($"{IndexPath}: lists tensor 'lm_head.weight' in shard {Shard1}, which does not hold it.", LoadFails());
    }

    [Fact]
    public void A_shard_tensor_the_index_does_not_list_is_reported()
    {
        JsonObject index = WriteSharded();
        index["weight_map"]!.AsObject().Remove("transformer.wte.weight");
        File.WriteAllText(IndexPath, index.ToJsonString());

        Assert.Equal(
            $"{Path.Combine(_root, Shard1)}: holds tensor 'transformer.wte.weight' but {IndexPath} does not list it.",
            LoadFails());
    }

    [Fact]
    public void A_shard_path_outside_the_folder_is_refused()
    {
        JsonObject index = WriteSharded();
        index["weight_map"]!["transformer.wte.weight"] = "../elsewhere.safetensors";
        File.WriteAllText(IndexPath, index.ToJsonString());

        Assert.Equal(
            $"{IndexPath}: weight_map entry for tensor 'transformer.wte.weight' is \"../elsewhere.safetensors\", not the file name of a shard in the same folder.",
            LoadFails());
    }

    [Fact]
    public void An_index_without_weight_map_is_reported()
    {
        WriteSharded();
        File.WriteAllText(IndexPath, "{\"metadata\": {}}");

        Assert.Equal($"{IndexPath}: has no \"weight_map\" object mapping tensor names to shard files.", LoadFails());
    }

    [Fact]
    public void An_empty_weight_map_is_reported()
    {
        WriteSharded();
        File.WriteAllText(IndexPath, "{\"weight_map\": {}}");

        Assert.Equal($"{IndexPath}: weight_map is empty.", LoadFails());
    }

    [Fact]
    public void A_tensor_listed_twice_in_the_weight_map_is_reported()
    {
        WriteSharded();
        File.WriteAllText(IndexPath, $"{{\"weight_map\": {{\"transformer.wte.weight\": \"{Shard1}\", \"transformer.wte.weight\": \"{Shard2}\"}}}}");

        Assert.Equal($"{IndexPath}: tensor 'transformer.wte.weight' appears twice in weight_map.", LoadFails());
    }

    [Fact]
    public void An_index_that_is_not_json_is_reported()
    {
        WriteSharded();
        File.WriteAllText(IndexPath, "{");

        Assert.StartsWith($"{IndexPath}: not valid JSON (", LoadFails(), StringComparison.Ordinal);
    }

    /// <summary>Writes config.json, the embeddings and block 0 in shard 1, the rest in shard 2, and the index.</summary>
    private JsonObject WriteSharded(TensorDType dtype = TensorDType.F32)
    {
        SafetensorsWriter all = TestCheckpoint.Weights(dtype: dtype);
        var weightMap = new JsonObject();
        foreach (string name in all.Names.ToList())
        {
            bool early = name.Contains(".h.0.", StringComparison.Ordinal) || name.Contains(".wte.", StringComparison.Ordinal) || name.Contains(".wpe.", StringComparison.Ordinal);
            weightMap[name] = early ? Shard1 : Shard2;
        }

        foreach (string file in new[] { Shard1, Shard2 })
        {
            SafetensorsWriter copy = TestCheckpoint.Weights(dtype: dtype);
            foreach (string name in copy.Names.ToList().Where(n => (string?)weightMap[n] != file))
            {
                copy.Remove(name);
            }

            copy.Write(Path.Combine(_root, file));
        }

        var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = 1 }, ["weight_map"] = weightMap };
        File.WriteAllText(IndexPath, index.ToJsonString());
        File.WriteAllText(Path.Combine(_root, "config.json"), TestCheckpoint.ConfigJson().ToJsonString());
        return index;
    }

    private string LoadFails() => Assert.Throws<FloverException>(() => Gpt2Checkpoint.Load(_root)).Message;
}
