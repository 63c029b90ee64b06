using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Models.Llama;

/// <summary>The forward pass: staged rows in host arrays, then one pass of kernels per batch of rows.</summary>
public sealed partial class LlamaModel
{
    /// <inheritdoc />
    private protected override void RunPass(RowStager staged)
    {
        int rows = staged.Rows;
        int wanted = staged.Wanted;
        LlamaWorkspace ws = _workspace;
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
        LlamaWorkspace ws = _workspace;
        LlamaDeviceWeights w = _weights;
        LlamaConfig c = Config;
        LlamaShardLayout part = _layout;
        int e = c.HiddenSize;
        float epsilon = c.RmsNormEpsilon;
        if (_shard is null)
        {
            a.EmbedVocabularySlice(ws.Tokens, rows, w.TokenEmbedding, firstToken: 0, ws.Residual);
        }
        else
        {
            ShardedLayers.EmbedVocabularyParallel(a, _shard, ws.Tokens, rows, w.TokenEmbedding, part.VocabularyStart, ws.Residual, e);
        }

        profile?.Mark(a, "embed");

        for (int layer = 0; layer < w.Layers.Length; layer++)
        {
            LlamaLayerWeights l = w.Layers[layer];
            a.RmsNorm(ws.Residual, ws.Normed, rows, e, l.InputNorm.View, epsilon);
            profile?.Mark(a, "rms-norm");
            a.MatMul(ws.Normed, rows, l.Qkv, Bias(l.QkvBias), ws.Qkv, KernelActivation.None, accumulate: false);
            profile?.Mark(a, "qkv");
            a.ApplyRotary(ws.Qkv, rows, ws.Positions, part.QueryHeads, part.KvHeads, c.HeadSize, w.RotaryTable.View);
            profile?.Mark(a, "rotary");
            // Every row's K and V go into the cache before any row attends, so the rows of a prefill
            // chunk see each other exactly as decode rows see earlier steps.
            Cache.WriteGrouped(a, ws.Qkv, rows, part.QueryHeads, ws.Slots, ws.Positions, layer);
            profile?.Mark(a, "kv-write");
            Cache.AttendGrouped(a, ws.Qkv, rows, part.QueryHeads, ws.Slots, ws.Positions, layer, ws.Attention);
            profile?.Mark(a, "attention");
            Project(ws.Attention, rows, l.Out, l.OutBias);
            profile?.Mark(a, "attention-out");
            a.RmsNorm(ws.Residual, ws.Normed, rows, e, l.PostAttentionNorm.View, epsilon);
            profile?.Mark(a, "rms-norm");
            a.MatMul(ws.Normed, rows, l.GateUp, Bias(l.GateUpBias), ws.GateUp, KernelActivation.None, accumulate: false);
            profile?.Mark(a, "gate-up");
            a.SwiGlu(ws.GateUp, rows, part.MlpCount, ws.Mlp);
            profile?.Mark(a, "swiglu");
            Project(ws.Mlp, rows, l.Down, l.DownBias);
            profile?.Mark(a, "mlp-down");
        }

        if (wanted == 0)
        {
            return;
        }

        // The final norm and the LM head run only on the rows whose logits are wanted.
        a.GatherRows(ws.Residual, ws.LogitRows, wanted, e, ws.Normed);
        a.RmsNorm(ws.Normed, ws.Attention, wanted, e, w.FinalNorm.View, epsilon);
        profile?.Mark(a, "final-norm");
        ShardedLayers.Head(a, _shard, ws.Attention, wanted, w.LmHead, ws.LocalLogits, ws.Logits, part.VocabularyOffsets, c.VocabularySize);
        profile?.Mark(a, "lm-head");
    }

    /// <summary><c>residual += input · weights + bias</c>, whole or as this shard's part (<see cref="ShardedLayers"/>).</summary>
    private void Project(ArrayView<float> input, int rows, DeviceMatrix weights, MemoryBuffer<float>? bias) =>
        ShardedLayers.Project(Accelerator, _shard, input, rows, weights, bias?.View ?? (_shard is null ? default : _workspace.ZeroBias), _workspace.Partial, _workspace.Residual, Config.HiddenSize);

    private static ArrayView<float> Bias(MemoryBuffer<float>? bias) => bias?.View ?? default;
}
