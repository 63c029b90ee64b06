using System.Diagnostics.CodeAnalysis;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Models.Gpt2;

/// <summary>A preset's weights made by the accelerator (<see cref="Accelerator.GenerateMatrix"/>, <see cref="Accelerator.GenerateTensor"/>).</summary>
internal sealed partial class Gpt2DeviceWeights
{
    /// <summary>
    /// Every tensor of <paramref name="preset"/> made in place: on a device that generates, no
    /// weight byte crosses from the host; elsewhere one tensor at a time is generated on the host and
    /// uploaded. The bytes are those the upload of the host generator's copy gives: the same
    /// recipes, layouts and roundings (the LM head is the token embedding, held once).
    /// </summary>
    [MemberNotNull(nameof(PositionEmbedding), nameof(FinalNormWeight), nameof(FinalNormBias), nameof(LmHead), nameof(Layers))]
    private void Generate(Accelerator accelerator, PresetWeights preset)
    {
        Gpt2Config config = preset.Config;
        PositionEmbedding = GeneratedVector(accelerator, preset, Gpt2TensorNames.PositionEmbedding);
        FinalNormWeight = GeneratedVector(accelerator, preset, Gpt2TensorNames.FinalNormWeight);
        FinalNormBias = GeneratedVector(accelerator, preset, Gpt2TensorNames.FinalNormBias);
        LmHead = GeneratedMatrix(accelerator, preset, Gpt2TensorNames.TokenEmbedding, MatrixLayout.OutputMajor);
        TokenEmbedding = null;
        Layers = new Gpt2LayerWeights[config.LayerCount];
        for (int layer = 0; layer < config.LayerCount; layer++)
        {
            Layers[layer] = new Gpt2LayerWeights(
                GeneratedVector(accelerator, preset, Gpt2TensorNames.Norm1Weight(layer)),
                GeneratedVector(accelerator, preset, Gpt2TensorNames.Norm1Bias(layer)),
                GeneratedMatrix(accelerator, preset, Gpt2TensorNames.AttentionQkvWeight(layer), MatrixLayout.InputMajor),
                GeneratedVector(accelerator, preset, Gpt2TensorNames.AttentionQkvBias(layer)),
                GeneratedMatrix(accelerator, preset, Gpt2TensorNames.AttentionOutWeight(layer), MatrixLayout.InputMajor),
                GeneratedVector(accelerator, preset, Gpt2TensorNames.AttentionOutBias(layer)),
                GeneratedVector(accelerator, preset, Gpt2TensorNames.Norm2Weight(layer)),
                GeneratedVector(accelerator, preset, Gpt2TensorNames.Norm2Bias(layer)),
                GeneratedMatrix(accelerator, preset, Gpt2TensorNames.MlpUpWeight(layer), MatrixLayout.InputMajor),
                GeneratedVector(accelerator, preset, Gpt2TensorNames.MlpUpBias(layer)),
                GeneratedMatrix(accelerator, preset, Gpt2TensorNames.MlpDownWeight(layer), MatrixLayout.InputMajor),
                GeneratedVector(accelerator, preset, Gpt2TensorNames.MlpDownBias(layer)));
        }
    }

    private MemoryBuffer<float> GeneratedVector(Accelerator accelerator, PresetWeights preset, string name)
    {
        MemoryBuffer<float> buffer = accelerator.GenerateTensor(preset.Recipe(name));
        _owned.Add(buffer);
        ByteSize += buffer.Length * sizeof(float);
        return buffer;
    }

    private DeviceMatrix GeneratedMatrix(Accelerator accelerator, PresetWeights preset, string name, MatrixLayout layout)
    {
        GeneratedTensor recipe = preset.Recipe(name);
        DeviceMatrix matrix = accelerator.GenerateMatrix(recipe, layout, _matrixType ?? recipe.DType);
        _owned.Add(matrix);
        ByteSize += matrix.ByteSize;
        return matrix;
    }
}
