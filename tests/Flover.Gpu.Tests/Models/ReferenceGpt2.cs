using Flover.Gpu.Checkpoints;
using Flover.Gpu.Kernels.Cpu;
using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Models;

/// <summary>
/// A plain float64 GPT-2 forward pass over a whole sequence, written from the formulas with no caching
/// and no SIMD: the yardstick the engine's logits are measured against. With a 16-bit
/// <c>kvDType</c>, every key and value is rounded as the engine's KV cache stores it (to F32, then
/// to F16 or BF16 nearest even) before attention reads it; everything else stays float64.
/// </summary>
internal sealed class ReferenceGpt2
{
    private readonly IModelWeights _weights;
    private readonly Gpt2Config _config;
    private readonly TensorDType _kvDType;
    private readonly Dictionary<string, double[]> _tensors = [];

    public ReferenceGpt2(IModelWeights weights, TensorDType kvDType = TensorDType.F32)
    {
        _weights = weights;
        _config = weights.Config;
        _kvDType = kvDType;
    }

    /// <summary>Logits [tokens.Length][vocab] for every position of <paramref name="tokens"/>.</summary>
    public double[][] Logits(IReadOnlyList<int> tokens)
    {
        int t = tokens.Count;
        int e = _config.EmbeddingSize;
        double[] wte = Tensor(Gpt2TensorNames.TokenEmbedding);
        double[] wpe = Tensor(Gpt2TensorNames.PositionEmbedding);
        var x = new double[t][];
        for (int i = 0; i < t; i++)
        {
            x[i] = new double[e];
            for (int j = 0; j < e; j++)
            {
                x[i][j] = wte[(tokens[i] * e) + j] + wpe[(i * e) + j];
            }
        }

        for (int layer = 0; layer < _config.LayerCount; layer++)
        {
            double[][] h = x.Select(row => Norm(row, Gpt2TensorNames.Norm1Weight(layer), Gpt2TensorNames.Norm1Bias(layer))).ToArray();
            double[][] qkv = h.Select(row => Linear(row, Gpt2TensorNames.AttentionQkvWeight(layer), Gpt2TensorNames.AttentionQkvBias(layer))).ToArray();
            double[][] attention = Attend(_kvDType == TensorDType.F32 ? qkv : [.. qkv.Select(RoundKeysAndValues)]);
            for (int i = 0; i < t; i++)
            {
                double[] projected = Linear(attention[i], Gpt2TensorNames.AttentionOutWeight(layer), Gpt2TensorNames.AttentionOutBias(layer));
                for (int j = 0; j < e; j++)
                {
                    x[i][j] += projected[j];
                }

                double[] normed = Norm(x[i], Gpt2TensorNames.Norm2Weight(layer), Gpt2TensorNames.Norm2Bias(layer));
                double[] up = Linear(normed, Gpt2TensorNames.MlpUpWeight(layer), Gpt2TensorNames.MlpUpBias(layer)).Select(Activate).ToArray();
                double[] down = Linear(up, Gpt2TensorNames.MlpDownWeight(layer), Gpt2TensorNames.MlpDownBias(layer));
                for (int j = 0; j < e; j++)
                {
                    x[i][j] += down[j];
                }
            }
        }

        string head = _weights.TensorNames.Contains(Gpt2TensorNames.LmHead) ? Gpt2TensorNames.LmHead : Gpt2TensorNames.TokenEmbedding;
        double[] lmHead = Tensor(head);
        var logits = new double[t][];
        for (int i = 0; i < t; i++)
        {
            double[] final = Norm(x[i], Gpt2TensorNames.FinalNormWeight, Gpt2TensorNames.FinalNormBias);
            logits[i] = new double[_config.VocabularySize];
            for (int v = 0; v < _config.VocabularySize; v++)
            {
                double sum = 0;
                for (int j = 0; j < e; j++)
                {
                    sum += final[j] * lmHead[(v * e) + j];
                }

                logits[i][v] = sum;
            }
        }

        return logits;
    }

    // Keys and values as a 16-bit cache holds them: the engine computes them in F32, then the
    // cache rounds each to nearest even with the conversions the weights use.
    private double[] RoundKeysAndValues(double[] row)
    {
        int e = _config.EmbeddingSize;
        return [.. row.Select((value, i) => i < e ? value : _kvDType switch
        {
            TensorDType.F16 => (double)(float)BitConverter.UInt16BitsToHalf(HalfWidening.NarrowToF16((float)value)),
            _ => BFloat16Bits.ToSingle(BFloat16Bits.FromSingle((float)value)),
        })];
    }

    private double[][] Attend(double[][] qkv)
    {
        int t = qkv.Length;
        int e = _config.EmbeddingSize;
        int size = _config.HeadSize;
        var output = new double[t][];
        for (int i = 0; i < t; i++)
        {
            output[i] = new double[e];
            for (int head = 0; head < _config.HeadCount; head++)
            {
                var scores = new double[i + 1];
                for (int j = 0; j <= i; j++)
                {
                    double dot = 0;
                    for (int d = 0; d < size; d++)
                    {
                        dot += qkv[i][(head * size) + d] * qkv[j][e + (head * size) + d];
                    }

                    scores[j] = dot / Math.Sqrt(size);
                }

                double max = scores.Max();
                double[] weights = scores.Select(s => Math.Exp(s - max)).ToArray();
                double total = weights.Sum();
                for (int j = 0; j <= i; j++)
                {
                    for (int d = 0; d < size; d++)
                    {
                        output[i][(head * size) + d] += weights[j] / total * qkv[j][(2 * e) + (head * size) + d];
                    }
                }
            }
        }

        return output;
    }

    private double Activate(double x) => _config.Activation switch
    {
        Gpt2Activation.GeluTanh => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + (0.044715 * x * x * x)))),
        Gpt2Activation.GeluExact => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
        _ => Math.Max(x, 0),
    };

    /// <summary>erf by Simpson's rule on 2/√π·e^(−t²) (independent of the engine's series).</summary>
    private static double Erf(double x)
    {
        const int steps = 2000;
        double h = x / steps;
        double sum = 1 + Math.Exp(-x * x);
        for (int k = 1; k < steps; k++)
        {
            double t = k * h;
            sum += (k % 2 == 1 ? 4 : 2) * Math.Exp(-t * t);
        }

        return sum * h / 3 * 2 / Math.Sqrt(Math.PI);
    }

    private double[] Norm(double[] x, string gainName, string biasName)
    {
        double[] gain = Tensor(gainName);
        double[] bias = Tensor(biasName);
        double mean = x.Average();
        double variance = x.Select(v => (v - mean) * (v - mean)).Average();
        double inverse = 1 / Math.Sqrt(variance + _config.LayerNormEpsilon);
        return x.Select((v, i) => ((v - mean) * inverse * gain[i]) + bias[i]).ToArray();
    }

    /// <summary>y = x·W + b with Conv1D weights stored [in, out].</summary>
    private double[] Linear(double[] x, string weightName, string biasName)
    {
        double[] weight = Tensor(weightName);
        double[] bias = Tensor(biasName);
        int outputs = bias.Length;
        var y = new double[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double sum = bias[o];
            for (int i = 0; i < x.Length; i++)
            {
                sum += x[i] * weight[(i * outputs) + o];
            }

            y[o] = sum;
        }

        return y;
    }

    private double[] Tensor(string name)
    {
        if (_tensors.TryGetValue(name, out double[]? cached))
        {
            return cached;
        }

        TensorView view = _weights.Get(name);
        var values = new float[view.ElementCount];
        view.CopyToSingle(values);
        double[] widened = values.Select(v => (double)v).ToArray();
        _tensors[name] = widened;
        return widened;
    }
}
