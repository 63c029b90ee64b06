using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Models.Gpt2;

/// <summary>The forward pass: staged rows in host arrays, then one pass of kernels per batch of rows.</summary>
public sealed partial class Gpt2Model
{
    /// <inheritdoc />
    private protected override void RunPass(RowStager staged)
    {
        int rows = staged.Rows;
        int wanted = staged.Wanted;
        Gpt2Workspace ws = _workspace;
        StepProfile? profile = Profile;
        profile?.Begin();
        ws.Upload(Accelerator, staged);
        profile?.Mark(Accelerator, "upload");
        Forward(rows, wanted, profile);
        if (wanted > 0)
        {
            DeliverLogits(ws.Logits, staged);
            profile?.Mark(Accelerator, "download");
        }
    }

    private void Forward(int rows, int wanted, StepProfile? profile)
    {
        Accelerator a = Accelerator;
        Gpt2Workspace ws = _workspace;
        Gpt2DeviceWeights w = _weights;
        int e = Config.EmbeddingSize;
        float epsilon = Config.LayerNormEpsilon;
        if (w.TokenEmbedding is { } table)
        {
            a.Embed(ws.Tokens, ws.Positions, rows, table.View, w.PositionEmbedding.View, ws.Residual, e);
        }
        else if (_shard is null)
        {
            a.Embed(ws.Tokens, ws.Positions, rows, w.LmHead, w.PositionEmbedding.View, ws.Residual);
        }
        else
        {
            // The tied head's vocabulary slice is this shard's part of the token table.
            ShardedLayers.EmbedVocabularyParallel(a, _shard, ws.Tokens, rows, w.LmHead, _vocabularyOffsets[_shard.Rank], ws.Residual, e);
            a.AddPositionEmbeddings(ws.Positions, rows, w.PositionEmbedding.View, ws.Residual, e);
        }

        profile?.Mark(a, "embed");
        for (int layer = 0; layer < w.Layers.Length; layer++)
        {
            Gpt2LayerWeights l = w.Layers[layer];
            a.LayerNorm(ws.Residual, ws.Normed, rows, e, l.Norm1Weight.View, l.Norm1Bias.View, epsilon);
            profile?.Mark(a, "layer-norm");
            a.MatMul(ws.Normed, rows, l.QkvWeight, l.QkvBias.View, ws.Qkv, KernelActivation.None, accumulate: false);
            profile?.Mark(a, "qkv");
            // Every row's K and V go into the cache before any row attends, so the rows of a prefill
            // chunk see each other exactly as decode rows see earlier steps.
            Cache.Write(a, ws.Qkv, rows, ws.Slots, ws.Positions, layer);
            profile?.Mark(a, "kv-write");
            Cache.Attend(a, ws.Qkv, rows, ws.Slots, ws.Positions, layer, ws.Attention);
            profile?.Mark(a, "attention");
            Project(ws.Attention, rows, l.AttentionOutWeight, l.AttentionOutBias.View);
            profile?.Mark(a, "attention-out");
            a.LayerNorm(ws.Residual, ws.Normed, rows, e, l.Norm2Weight.View, l.Norm2Bias.View, epsilon);
            profile?.Mark(a, "layer-norm");
            a.MatMul(ws.Normed, rows, l.MlpUpWeight, l.MlpUpBias.View, ws.Mlp, _activation, accumulate: false);
            profile?.Mark(a, "mlp-up");
            Project(ws.Mlp, rows, l.MlpDownWeight, l.MlpDownBias.View);
            profile?.Mark(a, "mlp-down");
        }

        if (wanted == 0)
        {
            return;
        }

        // The final norm and the LM head run only on the rows whose logits are wanted.
        a.GatherRows(ws.Residual, ws.LogitRows, wanted, e, ws.Normed);
        a.LayerNorm(ws.Normed, ws.Attention, wanted, e, w.FinalNormWeight.View, w.FinalNormBias.View, epsilon);
        profile?.Mark(a, "final-norm");
        ShardedLayers.Head(a, _shard, ws.Attention, wanted, w.LmHead, ws.LocalLogits, ws.Logits, _vocabularyOffsets, Config.VocabularySize);
        profile?.Mark(a, "lm-head");
    }

    /// <summary><c>residual += input · weights + bias</c>, whole or as this shard's part (<see cref="ShardedLayers"/>).</summary>
    private void Project(ArrayView<float> input, int rows, DeviceMatrix weights, ArrayView<float> bias) =>
        ShardedLayers.Project(Accelerator, _shard, input, rows, weights, bias, _workspace.Partial, _workspace.Residual, Config.EmbeddingSize);
}
