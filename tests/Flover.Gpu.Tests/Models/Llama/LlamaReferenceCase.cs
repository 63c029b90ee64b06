using Flover.Gpu.Checkpoints;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Llama;

namespace Flover.Gpu.Tests.Models.Llama;

/// <summary>
/// One of the transformers reference checkpoints in TestData/huggingface (see its README): the folder,
/// transformers' float64 logits and greedy tokens, and a LLaMA model over it on the CPU accelerator.
/// </summary>
internal sealed class LlamaReferenceCase
{
    public static readonly string[] Names = ["llama-gqa-llama3rope", "llama-mqa-tied-linear", "llama-bias-mha"];

    private LlamaReferenceCase(string folder, IReadOnlyList<(int[] Prompt, double[][] Logits, int[] Greedy)> cases)
    {
        Folder = folder;
        Cases = cases;
    }

    public string Folder { get; }

    public IReadOnlyList<(int[] Prompt, double[][] Logits, int[] Greedy)> Cases { get; }

    public static string FolderOf(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", "huggingface", name);

    public static LlamaReferenceCase Read(string name)
    {
        string folder = FolderOf(name);
        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "reference-logits.json")));
        var cases = new List<(int[], double[][], int[])>();
        foreach (JsonElement item in reference.RootElement.GetProperty("cases").EnumerateArray())
        {
            Assert.Equal("float64", item.GetProperty("dtype").GetString());
            cases.Add((
                [.. item.GetProperty("prompt").EnumerateArray().Select(t => t.GetInt32())],
                [.. item.GetProperty("logits").EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.GetDouble()).ToArray())],
                [.. item.GetProperty("greedy").EnumerateArray().Select(t => t.GetInt32())]));
        }

        return new LlamaReferenceCase(folder, cases);
    }

    /// <summary>A copy of <paramref name="folder"/> in <paramref name="target"/> whose config.json <paramref name="edit"/> rewrote.</summary>
    public static string CopyWithConfig(string folder, string target, Action<JsonObject> edit)
    {
        Directory.CreateDirectory(target);
        foreach (string file in Directory.GetFiles(folder).Where(f => !f.EndsWith(".json", StringComparison.Ordinal) || f.EndsWith("config.json", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
        }

        string configPath = Path.Combine(target, "config.json");
        JsonObject config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        edit(config);
        File.WriteAllText(configPath, config.ToJsonString());
        return target;
    }

    /// <summary>
    /// The config in transformers 4's form: top-level rope_theta and, unless default, rope_scaling
    /// whose type is under <paramref name="typeKey"/> (<c>type</c> or <c>rope_type</c>).
    /// </summary>
    public static void ToTransformers4(JsonObject config, string typeKey)
    {
        JsonObject parameters = config["rope_parameters"]!.AsObject();
        config.Remove("rope_parameters");
        config["rope_theta"] = parameters["rope_theta"]!.DeepClone();
        parameters.Remove("rope_theta");
        string type = parameters["rope_type"]!.GetValue<string>();
        parameters.Remove("rope_type");
        if (type != "default")
        {
            parameters[typeKey] = type;
            config["rope_scaling"] = parameters;
        }
    }

    /// <summary>Every prompt position's logits for each case, and the greedy continuation by decoding.</summary>
    /// <param name="weights">The checkpoint.</param>
    /// <param name="cases">The prompts (and how many tokens to continue each by).</param>
    /// <param name="open">The accelerator to run on; the CPU accelerator with two workers when null.</param>
    /// <param name="kvDType">The precision of the KV cache.</param>
    public static (float[][][] Logits, int[][] Greedy) Run(LlamaWeights weights, IReadOnlyList<(int[] Prompt, double[][] Logits, int[] Greedy)> cases, Func<Accelerator>? open = null, TensorDType kvDType = TensorDType.F32)
    {
        using Accelerator accelerator = open?.Invoke() ?? new AcceleratorContext(new EngineOptions(2)).CreateDefault();
        using var model = new LlamaModel(accelerator, weights, new LlamaModelOptions(SlotCount: 2, SlotCapacity: 48, MaxRowsPerStep: 32) { KvDType = kvDType });
        var logits = new float[cases.Count][][];
        var greedy = new int[cases.Count][];
        for (int c = 0; c < cases.Count; c++)
        {
            int[] prompt = cases[c].Prompt;
            ModelLogits rows = model.Prefill([new PrefillPrompt(0, prompt, 0, LogitsSelection.All)]);
            logits[c] = [.. Enumerable.Range(0, rows.RowCount).Select(r => rows.Row(r).ToArray())];
            var tokens = new List<int> { ArgMax(logits[c][^1]) };
            while (tokens.Count < cases[c].Greedy.Length)
            {
                tokens.Add(ArgMax(model.Decode([new DecodeRow(0, prompt.Length + tokens.Count - 1, tokens[^1])]).Row(0)));
            }

            greedy[c] = [.. tokens];
        }

        return (logits, greedy);
    }

    /// <summary>The worst row's ‖actual − expected‖ / ‖expected‖.</summary>
    public static double WorstRelativeL2(float[][] actual, double[][] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int r = 0; r < expected.Length; r++)
        {
            Assert.Equal(expected[r].Length, actual[r].Length);
            double difference = 0;
            double norm = 0;
            for (int i = 0; i < expected[r].Length; i++)
            {
                double d = actual[r][i] - expected[r][i];
                difference += d * d;
                norm += expected[r][i] * expected[r][i];
            }

            worst = Math.Max(worst, Math.Sqrt(difference / norm));
        }

        return worst;
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++)
        {
            best = row[i] > row[best] ? i : best;
        }

        return best;
    }
}
