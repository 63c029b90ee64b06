using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Host.Cli;

/// <summary>
/// <c>flover info (--model DIR|NAME | --preset NAME) [--device D] [--json]</c>: opens the weights
/// (which runs every loader check), reads every weight once to rule out NaN and infinity, then prints
/// the configuration, parameter count, dtypes and bytes; with <c>--device</c>, also opens that device
/// and prints what it is (so a GPU host can be checked without serving).
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
        command.SetAction(parse =>
        {
            var clock = Stopwatch.StartNew();
            using IModelWeights weights = ModelSource.Open(parse.GetValue(model), parse.GetValue(preset));
            double seconds = clock.Elapsed.TotalSeconds;
            console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loaded and checked {weights.Source} in {seconds:0.000} s"));
            clock.Restart();
            ModelWeightsSummary summary = ModelWeightsSummary.Of(weights);
            TensorScan.RequireFinite(weights);
            console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"scanned {summary.ByteCount} bytes for NaN and infinity in {clock.Elapsed.TotalSeconds:0.000} s"));
            AcceleratorDevice? opened = null;
            if (EngineCommandOptions.ParseDevice(parse.GetValue(device)) is { } spec)
            {
                using Accelerator accelerator = DeviceAccelerators.Open(spec, EngineOptions.Default);
                opened = accelerator.Device;
            }

            console.Out.Write(parse.GetValue(json) ? FormatJson(weights, summary, seconds, opened) : FormatText(weights, summary, opened));
            return 0;
        });
        return command;
    }

    private static string FormatText(IModelWeights weights, ModelWeightsSummary summary, AcceleratorDevice? device)
    {
        Gpt2Config c = weights.Config;
        var text = new StringBuilder();
        void Line(string key, object value) => text.Append(CultureInfo.InvariantCulture, $"{key,-20}{value}\n");
        Line("source", weights.Source);
        foreach ((string key, object value) in ConfigEntries(c))
        {
            Line(key, value);
        }

        Line("parameters", string.Create(CultureInfo.InvariantCulture, $"{summary.ParameterCount} ({summary.ParameterCount / 1e6:0.0} M)"));
        Line("tensors", $"{summary.TensorCount} ({string.Join(", ", summary.TensorsPerDType.Select(p => $"{p.Key}: {p.Value}"))})");
        Line("lm_head", summary.LmHeadTied ? "tied to wte" : "stored");
        Line("bytes", string.Create(CultureInfo.InvariantCulture, $"{summary.ByteCount} ({summary.ByteCount / 1048576.0:0.0} MiB)"));
        if (device is not null)
        {
            Line("device", $"{device.Name} ({device.Details})");
        }

        return text.ToString();
    }

    private static string FormatJson(IModelWeights weights, ModelWeightsSummary summary, double seconds, AcceleratorDevice? device)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("source", weights.Source);
            writer.WriteStartObject("config");
            foreach ((string key, object value) in ConfigEntries(weights.Config))
            {
                switch (value)
                {
                    case int number:
                        writer.WriteNumber(key, number);
                        break;
                    case float number:
                        writer.WriteNumber(key, number);
                        break;
                    default:
                        writer.WriteString(key, value.ToString());
                        break;
                }
            }

            writer.WriteEndObject();
            writer.WriteNumber("parameters", summary.ParameterCount);
            writer.WriteNumber("tensors", summary.TensorCount);
            writer.WriteStartObject("dtypes");
            foreach ((TensorDType dtype, int count) in summary.TensorsPerDType)
            {
                writer.WriteNumber(dtype.ToString(), count);
            }

            writer.WriteEndObject();
            writer.WriteNumber("bytes", summary.ByteCount);
            writer.WriteBoolean("lm_head_tied", summary.LmHeadTied);
            writer.WriteNumber("load_seconds", Math.Round(seconds, 3));
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

    /// <summary>The configuration under Hugging Face's config.json key names.</summary>
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
}
