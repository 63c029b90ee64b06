using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Flover.Configuration;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Host.Cli;

/// <summary>
/// <c>flover info (--model DIR|NAME | --preset NAME) [--device D] [--config F] [--set K=V] [--json]</c>:
/// opens the weights (which runs every loader check), reads every weight once to rule out NaN and
/// infinity, then prints the configuration, parameter count, dtypes and bytes, and the GEMM mode the
/// configuration asks for (<c>flover.engine.batch-invariant</c>; the fast mode says what it gives
/// up); with <c>--device</c>, also opens that device in that mode and prints what it is (so a GPU
/// host can be checked without serving).
/// </summary>
internal static class InfoCommand
{
    public static Command Create(CliConsole console)
    {
        Option<string?> model = CommonOptions.Model();
        Option<string?> preset = CommonOptions.Preset();
        Option<bool> json = CommonOptions.Json();
        Option<string?> device = EngineCommandOptions.DeviceOption();
        device.Description = "Also open this device (cpu, cuda or cuda:N) and print what it is.";
        var command = new Command("info", "Check a model and print its configuration, parameter count, dtypes and size.")
        {
            model,
            preset,
            device,
            json,
        };
        ConfigOptions config = ConfigOptions.AddTo(command);
        command.SetAction(parse =>
        {
            // Read first, so a bad setting fails before the weights are scanned.
            bool batchInvariant = FloverSettings.From(config.Load(parse)).Engine.BatchInvariant;
            var clock = Stopwatch.StartNew();
            ModelReport report = Open(parse.GetValue(model), parse.GetValue(preset), console, clock) with { BatchInvariant = batchInvariant };
            AcceleratorDevice? opened = null;
            if (EngineCommandOptions.ParseDevice(parse.GetValue(device)) is { } spec)
            {
                // In the configured mode: off on a device without cuBLAS is refused here as at serve.
                using Accelerator accelerator = DeviceAccelerators.Open(spec, EngineOptions.Default with { BatchInvariant = batchInvariant });
                opened = accelerator.Device;
            }

            console.Out.Write(parse.GetValue(json) ? FormatJson(report, opened) : FormatText(report, opened));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Opens the model (every loader check runs), scans every weight for NaN and infinity, and
    /// describes it: a GPT-2 checkpoint or preset, or a LLaMA folder (LlamaForCausalLM).
    /// </summary>
    private static ModelReport Open(string? model, string? preset, CliConsole console, Stopwatch clock)
    {
        if (model is not null && LlamaFolder(model) is { } folder)
        {
            using Gpu.Checkpoints.Llama.LlamaWeights llama = Gpu.Checkpoints.Llama.LlamaCheckpoint.Load(folder);
            double loaded = clock.Elapsed.TotalSeconds;
            console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loaded and checked {llama.Source} in {loaded:0.000} s"));
            clock.Restart();
            // A tied head is the embedding under a second name: counted once, as GPT-2's summary does.
            TensorView[] tensors = [.. llama.TensorNames
                .Where(name => !(llama.Config.TieWordEmbeddings && name == Gpu.Checkpoints.Llama.LlamaTensorNames.LmHead))
                .Order(StringComparer.Ordinal)
                .Select(llama.Get)];
            foreach (TensorView tensor in tensors)
            {
                if (TensorScan.CountNonFinite(tensor) is > 0 and long bad)
                {
                    throw new Gpu.FloverException($"{llama.Source}: tensor '{tensor.Name}' has {bad} NaN or infinite values.");
                }
            }

            long bytes = tensors.Sum(t => t.ByteLength);
            console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"scanned {bytes} bytes for NaN and infinity in {clock.Elapsed.TotalSeconds:0.000} s"));
            return new ModelReport(
                llama.Source,
                [.. LlamaConfigEntries(llama.Config)],
                tensors.Sum(t => t.ElementCount),
                tensors.Length,
                tensors.GroupBy(t => t.DType).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count()),
                bytes,
                llama.Config.TieWordEmbeddings,
                loaded)
            {
                TokenEmbedding = "embed_tokens",
            };
        }

        using IModelWeights weights = ModelSource.Open(model, preset);
        double seconds = clock.Elapsed.TotalSeconds;
        console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loaded and checked {weights.Source} in {seconds:0.000} s"));
        clock.Restart();
        ModelWeightsSummary summary = ModelWeightsSummary.Of(weights);
        TensorScan.RequireFinite(weights);
        console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"scanned {summary.ByteCount} bytes for NaN and infinity in {clock.Elapsed.TotalSeconds:0.000} s"));
        return new ModelReport(weights.Source, [.. ConfigEntries(weights.Config)], summary.ParameterCount, summary.TensorCount, summary.TensorsPerDType, summary.ByteCount, summary.LmHeadTied, seconds);
    }

    /// <summary>The folder <paramref name="model"/> names when it holds a LLaMA checkpoint, else null (GPT-2's loader then reports what it finds).</summary>
    private static string? LlamaFolder(string model)
    {
        string folder;
        try
        {
            folder = ModelLocator.Resolve(model);
        }
        catch (Gpu.FloverException)
        {
            return null; // ModelSource.Open says why, as it does for every command.
        }

        return Directory.Exists(folder) && ModelFamilies.Of(folder) == ModelFamily.Llama ? folder : null;
    }

    private static string FormatText(ModelReport report, AcceleratorDevice? device)
    {
        var text = new StringBuilder();
        // GPT-2's keys fit 20 columns; LLaMA's longest (max_position_embeddings) needs 24.
        int width = Math.Max(20, report.Config.Max(entry => entry.Key.Length) + 1);
        void Line(string key, object value) => text.Append(CultureInfo.InvariantCulture, $"{key.PadRight(width)}{value}\n");
        Line("source", report.Source);
        foreach ((string key, object value) in report.Config)
        {
            Line(key, value);
        }

        Line("parameters", string.Create(CultureInfo.InvariantCulture, $"{report.Parameters} ({report.Parameters / 1e6:0.0} M)"));
        Line("tensors", $"{report.Tensors} ({string.Join(", ", report.DTypes.Select(p => $"{p.Key}: {p.Value}"))})");
        Line("lm_head", report.LmHeadTied ? $"tied to {report.TokenEmbedding}" : "stored");
        Line("bytes", string.Create(CultureInfo.InvariantCulture, $"{report.Bytes} ({report.Bytes / 1048576.0:0.0} MiB)"));
        Line("gemm", GemmMode.Describe(report.BatchInvariant));
        if (device is not null)
        {
            Line("device", $"{device.Name} ({device.Details})");
        }

        return text.ToString();
    }

    private static string FormatJson(ModelReport report, AcceleratorDevice? device)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("source", report.Source);
            writer.WriteStartObject("config");
            foreach ((string key, object value) in report.Config)
            {
                switch (value)
                {
                    case int number:
                        writer.WriteNumber(key, number);
                        break;
                    case float number:
                        writer.WriteNumber(key, number);
                        break;
                    case bool flag:
                        writer.WriteBoolean(key, flag);
                        break;
                    default:
                        writer.WriteString(key, value.ToString());
                        break;
                }
            }

            writer.WriteEndObject();
            writer.WriteNumber("parameters", report.Parameters);
            writer.WriteNumber("tensors", report.Tensors);
            writer.WriteStartObject("dtypes");
            foreach ((TensorDType dtype, int count) in report.DTypes)
            {
                writer.WriteNumber(dtype.ToString(), count);
            }

            writer.WriteEndObject();
            writer.WriteNumber("bytes", report.Bytes);
            writer.WriteBoolean("lm_head_tied", report.LmHeadTied);
            writer.WriteNumber("load_seconds", Math.Round(report.LoadSeconds, 3));
            writer.WriteStartObject("gemm");
            writer.WriteString("mode", GemmMode.Name(report.BatchInvariant));
            writer.WriteBoolean("batch_invariant", report.BatchInvariant);
            // What the mode means for serving, as the text output says it.
            writer.WriteBoolean("exact_failover", report.BatchInvariant);
            writer.WriteEndObject();
            if (device is not null)
            {
                writer.WriteStartObject("device");
                writer.WriteString("name", device.Name);
                writer.WriteString("details", device.Details);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>A LLaMA configuration under its config.json key names (the rope as transformers 4 writes it).</summary>
    private static IEnumerable<(string Key, object Value)> LlamaConfigEntries(Gpu.Models.Llama.LlamaConfig c)
    {
        yield return ("architectures", "LlamaForCausalLM");
        yield return ("num_hidden_layers", c.LayerCount);
        yield return ("hidden_size", c.HiddenSize);
        yield return ("num_attention_heads", c.HeadCount);
        yield return ("num_key_value_heads", c.KvHeadCount);
        yield return ("head_dim", c.HeadSize);
        yield return ("intermediate_size", c.IntermediateSize);
        yield return ("vocab_size", c.VocabularySize);
        yield return ("max_position_embeddings", c.MaxPositions);
        yield return ("rms_norm_eps", c.RmsNormEpsilon);
        yield return ("rope_type", c.Rope.Type.ToString().ToLowerInvariant());
        yield return ("rope_theta", c.Rope.Theta);
        yield return ("tie_word_embeddings", c.TieWordEmbeddings);
        yield return ("attention_bias", c.AttentionBias);
        yield return ("mlp_bias", c.MlpBias);
    }

    /// <summary>A GPT-2 configuration under Hugging Face's config.json key names.</summary>
    private static IEnumerable<(string Key, object Value)> ConfigEntries(Gpt2Config c)
    {
        yield return ("n_layer", c.LayerCount);
        yield return ("n_head", c.HeadCount);
        yield return ("n_embd", c.EmbeddingSize);
        yield return ("n_positions", c.MaxPositions);
        yield return ("n_inner", c.InnerSize);
        yield return ("vocab_size", c.VocabularySize);
        yield return ("layer_norm_epsilon", c.LayerNormEpsilon);
        yield return ("activation_function", c.Activation switch
        {
            Gpt2Activation.GeluTanh => "gelu_new",
            Gpt2Activation.GeluExact => "gelu",
            _ => "relu",
        });
        yield return ("bos_token_id", c.BosTokenId);
        yield return ("eos_token_id", c.EosTokenId);
    }

    /// <summary>What <c>info</c> prints of a model of either family.</summary>
    private sealed record ModelReport(string Source, IReadOnlyList<(string Key, object Value)> Config, long Parameters, int Tensors, IReadOnlyDictionary<TensorDType, int> DTypes, long Bytes, bool LmHeadTied, double LoadSeconds)
    {
        /// <summary>The token embedding's name in the family's checkpoints (what a tied head is tied to).</summary>
        public string TokenEmbedding { get; init; } = "wte";

        /// <summary><c>flover.engine.batch-invariant</c>: the GEMM mode the configuration asks for.</summary>
        public bool BatchInvariant { get; init; } = true;
    }
}
