namespace Flover.Gpu.Models.Llama;

/// <summary>How rotary frequencies are scaled (<c>rope_type</c>, or <c>type</c> in older configs).</summary>
public enum LlamaRopeType
{
    /// <summary>No scaling: <c>θ^(−2i/d)</c>.</summary>
    Default,

    /// <summary>Positions divided by <see cref="LlamaRope.Factor"/> (frequencies divided, equivalently).</summary>
    Linear,

    /// <summary>LLaMA 3's frequency-dependent scaling: low frequencies divided by the factor, high ones kept, the band between smoothed.</summary>
    Llama3,
}

/// <summary>Rotary embedding settings, whichever form the config wrote them in.</summary>
/// <param name="Type">The scaling type.</param>
/// <param name="Theta">The base (<c>rope_theta</c>).</param>
/// <param name="Factor">The scaling factor (linear and llama3; 1 otherwise).</param>
/// <param name="LowFrequencyFactor">llama3's <c>low_freq_factor</c>.</param>
/// <param name="HighFrequencyFactor">llama3's <c>high_freq_factor</c>.</param>
/// <param name="OriginalMaxPositions">llama3's <c>original_max_position_embeddings</c>.</param>
public sealed record LlamaRope(LlamaRopeType Type, float Theta, float Factor = 1f, float LowFrequencyFactor = 1f, float HighFrequencyFactor = 4f, int OriginalMaxPositions = 8192)
{
    /// <summary>
    /// The <paramref name="headSize"/> / 2 inverse frequencies, computed in float32 in the order
    /// transformers computes them (its rotary embedding works in float32 even for a float64 model),
    /// so the angles match its own bit for bit or within an ulp.
    /// </summary>
    public float[] InverseFrequencies(int headSize)
    {
        var inverse = new float[headSize / 2];
        for (int i = 0; i < inverse.Length; i++)
        {
            float exponent = (2 * i) / (float)headSize;
            inverse[i] = 1f / (float)Math.Pow(Theta, exponent);
        }

        switch (Type)
        {
            case LlamaRopeType.Linear:
                for (int i = 0; i < inverse.Length; i++)
                {
                    inverse[i] /= Factor;
                }

                break;
            case LlamaRopeType.Llama3:
                ScaleLlama3(inverse);
                break;
        }

        return inverse;
    }

    /// <summary>
    /// The rotary table for positions 0 .. <paramref name="positions"/> − 1: per position,
    /// <paramref name="headSize"/> / 2 cosines then as many sines of <c>position · inverse frequency</c>.
    /// </summary>
    public float[] Table(int positions, int headSize)
    {
        float[] inverse = InverseFrequencies(headSize);
        int half = headSize / 2;
        var table = new float[(long)positions * headSize];
        for (int p = 0; p < positions; p++)
        {
            for (int i = 0; i < half; i++)
            {
                // The angle rounded to float32 as transformers forms it; cos and sin of it then rounded once.
                float angle = p * inverse[i];
                table[((long)p * headSize) + i] = (float)Math.Cos(angle);
                table[((long)p * headSize) + half + i] = (float)Math.Sin(angle);
            }
        }

        return table;
    }

    private void ScaleLlama3(float[] inverse)
    {
        float lowWavelength = OriginalMaxPositions / LowFrequencyFactor;
        float highWavelength = OriginalMaxPositions / HighFrequencyFactor;
        for (int i = 0; i < inverse.Length; i++)
        {
            float wavelength = 2f * MathF.PI / inverse[i];
            float scaled = wavelength > lowWavelength ? inverse[i] / Factor : inverse[i];
            bool medium = !(wavelength < highWavelength) && !(wavelength > lowWavelength);
            if (medium)
            {
                float smooth = ((OriginalMaxPositions / wavelength) - LowFrequencyFactor) / (HighFrequencyFactor - LowFrequencyFactor);
                scaled = ((1f - smooth) * scaled / Factor) + (smooth * scaled);
            }

            inverse[i] = scaled;
        }
    }
}
