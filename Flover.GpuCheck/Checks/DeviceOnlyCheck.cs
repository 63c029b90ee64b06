using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Sampling;

namespace Flover.GpuCheck.Checks;

/// <summary>
/// Proves a step is a device step: after warm-up, a fused prefill + decode step launched a kernel
/// in every accelerator operation (no host fallback), allocated nothing on the device, and sent
/// only the logits to the host, or for rows chosen on the device (greedy or sampled) only their ids
/// (plus the per-row token, position and slot indices to the device, and a sampled row's parameters
/// and logit edits).
/// </summary>
internal static class DeviceOnlyCheck
{
    /// <summary>Returns null when all holds, or what did not.</summary>
    public static string? Run(IlgpuAccelerator accelerator, IModelWeights weights) => Run(accelerator, weights, out _);

    /// <summary>
    /// As <see cref="Run(IlgpuAccelerator, IModelWeights)"/>, also measuring the managed bytes this
    /// thread allocated in a warm decode step (ours and ILGPU's launch path; on ILGPU's CPU
    /// accelerator the simulated device's own task objects count too, so only a GPU's figure means
    /// anything).
    /// </summary>
    public static string? Run(IlgpuAccelerator accelerator, IModelWeights weights, out long managedBytesPerStep)
    {
        int vocabulary = weights.Config.VocabularySize;
        using var model = new Gpt2Model(accelerator, weights, new Gpt2ModelOptions(SlotCount: 4, SlotCapacity: 12, MaxRowsPerStep: 6));
        // Warm-up at the full row budget sizes every scratch buffer, and a sampled step the sampling's.
        model.Prefill([new PrefillPrompt(0, new[] { 1, 2, 3, 4, 5, 6 }, 0, LogitsSelection.All)]);
        RowSampling topK = Sampled(vocabulary, topK: 40, topP: 1f, draw: 0.3);
        RowSampling topP = Sampled(vocabulary, topK: 0, topP: 0.9f, draw: 0.7) with { Logprobs = 3 };
        model.Decode([new DecodeRow(0, 6, 1, vocabulary, topK), new DecodeRow(1, 0, 2, vocabulary, topP), new DecodeRow(2, 0, 3)]);
        accelerator.Counters.Reset();

        model.Prefill([new PrefillPrompt(1, new[] { 7, 8, 9 }), new PrefillPrompt(2, new[] { 10, 11 })]);
        model.Decode([new DecodeRow(0, 6, 12), new DecodeRow(1, 3, 13), new DecodeRow(2, 2, 14)]);
        model.Copy(2, 3, 3);
        DecodeRow[] warm = [new DecodeRow(0, 7, 15), new DecodeRow(1, 4, 16), new DecodeRow(3, 3, 17)];
        model.Decode(warm);
        long before = GC.GetAllocatedBytesForCurrentThread();
        warm[0] = warm[0] with { Position = 8 };
        warm[1] = warm[1] with { Position = 5 };
        warm[2] = warm[2] with { Position = 4 };
        model.Decode(warm);
        managedBytesPerStep = GC.GetAllocatedBytesForCurrentThread() - before;
        // Rows 0 and 2 greedy, chosen on the device: only their ids come back, and row 1's logits.
        model.Decode([warm[0] with { Position = 9, ChooseAmong = vocabulary }, warm[1] with { Position = 6 }, warm[2] with { Position = 5, ChooseAmong = vocabulary }]);
        // Rows 0 and 1 sampled on the device (top-k, top-p with 3 logprobs): only their ids and row 1's
        // logprobs come back, and row 2's logits.
        ModelLogits sampled = model.Decode([warm[0] with { Position = 10, ChooseAmong = vocabulary, Sampling = topK }, warm[1] with { Position = 7, ChooseAmong = vocabulary, Sampling = topP }, warm[2] with { Position = 6 }]);
        IlgpuCounters c = accelerator.Counters;
        var problems = new List<string>();
        if (!sampled.IsChosenOnDevice(0) || !sampled.IsChosenOnDevice(1) || sampled.IsChosenOnDevice(2) || (uint)sampled.ChosenOnDevice(0) >= (uint)vocabulary
            || sampled.ChosenLogprobs(0) is not null || sampled.ChosenLogprobs(1) is not { Top.Count: 3 })
        {
            problems.Add("the sampled step did not bring back the sampled rows' ids and the other row's logits");
        }

        string[] step = ["EmbedColumns", "LayerNorm", "MatMul", "WriteKv", "Attention", "GatherRows", "ArgMax", "SampleRows"];
        foreach (string operation in step.Where(o => !c.Operations.ContainsKey(o)))
        {
            problems.Add($"operation {operation} never ran");
        }

        if (c.OperationsWithoutLaunch.Count > 0)
        {
            problems.Add($"ran on the host (no kernel launched): {string.Join(", ", c.OperationsWithoutLaunch)}");
        }

        if (c.Allocations != 0)
        {
            problems.Add($"{c.Allocations} device allocations after warm-up");
        }

        // Two logits rows (one per prompt), three decode steps of three rows, then the greedy step's
        // and the sampled step's one host row and three ids each (one copy each), and the sampled row's
        // requested logprobs (its token's and 3 alternatives': 4 floats and 3 ids, two copies) come back; nothing else does.
        long logitBytes = (13L * vocabulary * sizeof(float)) + (6 * sizeof(int)) + (4 * sizeof(float)) + (3 * sizeof(int));
        if (c.DeviceToHostBytes != logitBytes || c.DeviceToHostCopies != 10)
        {
            problems.Add($"{c.DeviceToHostCopies} device-to-host copies of {c.DeviceToHostBytes} bytes; only the logits, the chosen ids and the requested logprobs ({logitBytes} bytes in 10 copies) should cross");
        }

        // Per pass: tokens, positions, slots, logit rows (the prefill's 5 rows, each decode's 3), and
        // the sampled step's three rows of parameters (40 bytes each) and four logit edits (20 bytes each).
        // One copy per pass for its row indices (ModelWorkspace packs the four arrays), and one each for
        // the sampled step's parameters and edits: 6 passes + 2.
        long indexBytes = (((5 * 3) + 2 + (5 * ((3 * 3) + 3))) * sizeof(int)) + (3 * 40) + (4 * 20);
        if (c.HostToDeviceBytes != indexBytes || c.HostToDeviceCopies != 8)
        {
            problems.Add($"{c.HostToDeviceCopies} host-to-device copies of {c.HostToDeviceBytes} bytes; only the {indexBytes} bytes of row indices (one copy per pass) and sampling parameters (8 copies) should go");
        }

        if (c.DeviceCopies == 0)
        {
            problems.Add("the slot move was not a device copy");
        }

        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    /// <summary>A sampled row's parameters with two logit edits (a repetition penalty and a bias).</summary>
    private static RowSampling Sampled(int vocabulary, int topK, float topP, double draw) =>
        new(vocabulary, 0.8f, topK, topP, draw, new[] { new LogitEdit(1, LogitEditKinds.Repetition, 1.3f, 0, 0), new LogitEdit(5, LogitEditKinds.Bias, 1f, 0, 2f) });
}
