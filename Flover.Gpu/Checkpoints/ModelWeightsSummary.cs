namespace Flover.Gpu.Checkpoints;

/// <summary>
/// What a set of weights holds, counted once per stored tensor: a tied <c>lm_head</c> is the token
/// embedding, so it adds neither parameters nor bytes.
/// </summary>
/// <param name="TensorCount">Distinct stored tensors.</param>
/// <param name="ParameterCount">Elements over all distinct tensors.</param>
/// <param name="ByteCount">Bytes over all distinct tensors.</param>
/// <param name="TensorsPerDType">How many distinct tensors are stored in each dtype.</param>
/// <param name="LmHeadTied">Whether <see cref="Gpt2TensorNames.LmHead"/> is the token embedding.</param>
public sealed record ModelWeightsSummary(
    int TensorCount,
    long ParameterCount,
    long ByteCount,
    IReadOnlyDictionary<TensorDType, int> TensorsPerDType,
    bool LmHeadTied)
{
    /// <summary>Counts the tensors of <paramref name="weights"/>.</summary>
    public static unsafe ModelWeightsSummary Of(IModelWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var seen = new HashSet<nint>();
        var perDType = new SortedDictionary<TensorDType, int>();
        int tensors = 0;
        long parameters = 0;
        long bytes = 0;
        foreach (string name in weights.TensorNames)
        {
            TensorView view = weights.Get(name);
            // Aliases share their storage; an empty tensor has no storage to share, so count it by name.
            if (view.ByteLength > 0 && !seen.Add((nint)view.Pointer))
            {
                continue;
            }

            tensors++;
            parameters += view.ElementCount;
            bytes += view.ByteLength;
            perDType[view.DType] = perDType.GetValueOrDefault(view.DType) + 1;
        }

        bool tied = weights.TensorNames.Contains(Gpt2TensorNames.LmHead)
            && weights.Get(Gpt2TensorNames.LmHead).Pointer == weights.Get(Gpt2TensorNames.TokenEmbedding).Pointer;
        return new ModelWeightsSummary(tensors, parameters, bytes, perDType, tied);
    }
}
