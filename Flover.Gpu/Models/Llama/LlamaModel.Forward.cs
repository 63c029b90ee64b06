using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Models.Llama;

/// <summary>The forward pass: staged rows in host arrays, then one pass of kernels per batch of rows.</summary>
public sealed partial class LlamaModel
{
    /// <summary>Runs the rows <paramref name="staged"/> holds through the model and writes their wanted logits where it says.</summary>
    private void RunPass(RowStager staged)
    {
        int rows = staged.Rows;
        int wanted = staged.Wanted;
        LlamaWorkspace ws = _workspace;
        ws.Upload(_accelerator, staged);
        Forward(rows, wanted);
        if (wanted > 0)
        {
            _accelerator.CopyToCpu(ws.Logits.SubView(0, (long)wanted * Config.VocabularySize), staged.LogitsDestination);
        }
    }

    private void Forward(int rows, int wanted)
    {
        Accelerator a = _accelerator;
        LlamaWorkspace ws = _workspace;
        LlamaDeviceWeights w = _weights;
        LlamaConfig c = Config;
        int e = c.HiddenSize;
        float epsilon = c.RmsNormEpsilon;
        a.EmbedVocabularySlice(ws.Tokens, rows, w.TokenEmbedding, firstToken: 0, ws.Residual);
        for (int layer = 0; layer < w.Layers.Length; layer++)
        {
            LlamaLayerWeights l = w.Layers[layer];
            a.RmsNorm(ws.Residual, ws.Normed, rows, e, l.InputNorm.View, epsilon);
            a.MatMul(ws.Normed, rows, l.Qkv, Bias(l.QkvBias), ws.Qkv, KernelActivation.None, accumulate: false);
            a.ApplyRotary(ws.Qkv, rows, ws.Positions, c.HeadCount, c.KvHeadCount, c.HeadSize, w.RotaryTable.View);
            // Every row's K and V go into the cache before any row attends, so the rows of a prefill
            // chunk see each other exactly as decode rows see earlier steps.
            _cache.WriteGrouped(a, ws.Qkv, rows, c.HeadCount, ws.Slots, ws.Positions, layer);
            _cache.AttendGrouped(a, ws.Qkv, rows, c.HeadCount, ws.Slots, ws.Positions, layer, ws.Attention);
            a.MatMul(ws.Attention, rows, l.Out, Bias(l.OutBias), ws.Residual, KernelActivation.None, accumulate: true);
            a.RmsNorm(ws.Residual, ws.Normed, rows, e, l.PostAttentionNorm.View, epsilon);
            a.MatMul(ws.Normed, rows, l.GateUp, Bias(l.GateUpBias), ws.GateUp, KernelActivation.None, accumulate: false);
            a.SwiGlu(ws.GateUp, rows, c.IntermediateSize, ws.Mlp);
            a.MatMul(ws.Mlp, rows, l.Down, Bias(l.DownBias), ws.Residual, KernelActivation.None, accumulate: true);
        }

        if (wanted == 0)
        {
            return;
        }

        // The final norm and the LM head run only on the rows whose logits are wanted.
        a.GatherRows(ws.Residual, ws.LogitRows, wanted, e, ws.Normed);
        a.RmsNorm(ws.Normed, ws.Attention, wanted, e, w.FinalNorm.View, epsilon);
        a.MatMul(ws.Attention, wanted, w.LmHead, default, ws.Logits, KernelActivation.None, accumulate: false);
    }

    private static ArrayView<float> Bias(MemoryBuffer<float>? bias) => bias?.View ?? default;
}
