using System.Diagnostics;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.GpuCheck.Checks;

namespace Flover.GpuCheck;

/// <summary>
/// Runs every check on one device and reports each as PASS or FAIL with its numbers:
/// <c>--device cuda[:N]</c> (the lent GPU; no GPU there is a failure) or <c>--device ilgpu-cpu</c>
/// (ILGPU's CPU accelerator, as CI runs it); <c>--bench</c> adds decode timing at GPT-2's shapes;
/// <c>--only fast-gemm</c> runs only the fast GEMM mode's checks (and, with <c>--bench</c>, its timing);
/// <c>--out DIR</c> also writes <c>DIR/results.txt</c>; <c>--hf-reference DIR</c> names the GPT-2
/// transformers reference and <c>--llama-reference DIR</c> the folder of the LLaMA ones (default: the
/// test projects' copies, relative to the repository root).
/// </summary>
internal static partial class GpuCheckRunner
{
    public static int Run(string[] args, TextWriter console)
    {
        string device = Option(args, "--device") ?? "cuda";
        string? outDirectory = Option(args, "--out");
        // transformers' reference logits: in the repository (the GPU machine runs from its root) or where a test copied them.
        string hfReference = Option(args, "--hf-reference") ?? Path.Combine("tests", "Flover.Gpu.Ilgpu.Tests", "TestData", "gpt2-small-random");
        // The LLaMA checkpoints transformers wrote (GQA + llama3 rope, MQA + tied head + linear rope, biases).
        string llamaReference = Option(args, "--llama-reference") ?? Path.Combine("tests", "Flover.Gpu.Tests", "TestData", "huggingface");
        bool bench = args.Contains("--bench");
        var report = new Report(console);
        report.Line($"Flover GPU check: device {device}, {DateTime.UtcNow:u}, .NET {Environment.Version}");

        Func<Accelerator> open;
        // The fast GEMM mode (flover.engine.batch-invariant = off): cuBLAS on a GPU, refused elsewhere.
        Func<Accelerator>? openFast = null;
        bool cuda = device.StartsWith("cuda", StringComparison.OrdinalIgnoreCase);
        if (cuda)
        {
            DeviceSpec spec;
            try
            {
                spec = DeviceSpec.Parse(device);
            }
            catch (FloverException exception)
            {
                report.Check("device", false, exception.Message);
                return report.Finish(outDirectory);
            }

            open = () => IlgpuDevices.OpenCuda(spec.Ordinal);
            openFast = () => IlgpuDevices.OpenCuda(spec.Ordinal, IlgpuAccelerator.DefaultMatMulChunk, batchInvariant: false);
            var timer = Stopwatch.StartNew();
            try
            {
                using IlgpuAccelerator first = IlgpuDevices.OpenCuda(spec.Ordinal);
                report.Check("device", true, $"{first.Device.Name}: {first.Device.Details}; context + all kernels compiled in {timer.Elapsed.TotalSeconds:F2} s; {first.FreeBytes / (1L << 20):N0} MiB free");
            }
            catch (FloverException exception)
            {
                report.Check("device", false, exception.Message);
                return report.Finish(outDirectory);
            }
        }
        else if (device == "ilgpu-cpu")
        {
            open = () => IlgpuDevices.OpenCpuOracle();
        }
        else
        {
            report.Check("device", false, $"unknown device '{device}': use cuda, cuda:N or ilgpu-cpu");
            return report.Finish(outDirectory);
        }

        using NativeModelWeights f32 = CheckWeights.Create(CheckWeights.Config());
        int[] prompt = [5, 17, 2, 90, 33, 61, 8];
        FastGemmChecks(report, openFast, f32, prompt);
        if (Option(args, "--only") == "fast-gemm")
        {
            // A short visit: the fast GEMM mode's checks and, with --bench, its decode timing beside the batch-invariant run's.
            if (bench && openFast is not null)
            {
                using NativeModelWeights weights = Gpt2Presets.Create(Gpt2Presets.Gpt2);
                FastGemmBench(report, open, openFast, weights, includeBaseline: true);
            }

            return report.Finish(outDirectory);
        }

        report.Run("kernels vs float64 (odd shapes)", () => Kernels(open));
        using NativeModelWeights separate = CheckWeights.Create(CheckWeights.Config(activation: Gpt2Activation.GeluExact), separateHead: true);

        report.Run("model F32 vs CPU engine", () => Model(open, f32, null, prompt, 1e-5));
        report.Run("model F32 (own LM head, exact GELU) vs CPU engine", () => Model(open, separate, null, prompt, 1e-5));
        report.Run("model vs transformers' float64 logits (gpt2-small-random)", () =>
        {
            (double worst, bool greedy, int cases) = TransformersReference.Compare(open, hfReference);
            return (worst < 1e-5 && greedy, $"{cases} prompts, worst row rel L2 {worst:E2} (bound 1e-5); greedy {(greedy ? "equal" : "DIFFERENT")}");
        });
        foreach (string llama in (string[])["llama-gqa-llama3rope", "llama-mqa-tied-linear", "llama-bias-mha"])
        {
            report.Run($"LLaMA vs transformers' float64 logits ({llama})", () =>
            {
                (double worst, bool greedy, int cases) = TransformersReference.CompareLlama(open, Path.Combine(llamaReference, llama));
                return (worst < 1e-5 && greedy, $"{cases} prompts, worst row rel L2 {worst:E2} (bound 1e-5); greedy {(greedy ? "equal" : "DIFFERENT")}");
            });
        }

        report.Run("LLaMA BF16 KV vs transformers (llama-gqa-llama3rope)", () =>
        {
            (double worst, bool greedy, int cases) = TransformersReference.CompareLlama(open, Path.Combine(llamaReference, "llama-gqa-llama3rope"), TensorDType.BF16);
            return (worst < 4 * Math.Pow(2, -8) && greedy, $"{cases} prompts, worst row rel L2 {worst:E2} (bound 4 BF16 roundings, 1.6e-2); greedy {(greedy ? "equal" : "DIFFERENT")}");
        });
        using NativeModelWeights wide = CheckWeights.Create(CheckWeights.Config(embedding: 264, layers: 1));
        report.Run("model F32 264 wide (split-K at the device's chunk) vs CPU engine", () => Model(open, wide, null, prompt, 1e-5));
        report.Run("model BF16 weights vs CPU engine", () => Model(open, f32, TensorDType.BF16, prompt, 1e-4));

        report.Run("model F16 weights vs CPU engine", () => Model(open, f32, TensorDType.F16, prompt, 1e-4));
        report.Run("model F16 KV vs CPU engine", () => Model(open, f32, null, prompt, 1e-4, TensorDType.F16));
        report.Run("model BF16 KV vs CPU engine", () => Model(open, f32, null, prompt, 1e-4, TensorDType.BF16));
        foreach (MemoryMode mode in Enum.GetValues<MemoryMode>())
        {
            report.Run($"fused == alone bitwise ({mode.ToString().ToLowerInvariant()})", () => (ModelChecks.FusedEqualsAlone(open, f32, mode) is { } problem ? (false, problem) : (true, "every row bitwise equal")));
        }

        report.Run("fused == alone bitwise (indexed, F16 KV)", () => (ModelChecks.FusedEqualsAlone(open, f32, MemoryMode.Indexed, TensorDType.F16) is { } half ? (false, half) : (true, "every row bitwise equal")));
        report.Run("fused == alone bitwise (shuffle, BF16 KV)", () => (ModelChecks.FusedEqualsAlone(open, f32, MemoryMode.Shuffle, TensorDType.BF16) is { } brain ? (false, brain) : (true, "every row bitwise equal")));
        report.Run("4 instances on their own streams == alone bitwise", () => (StreamChecks.ConcurrentInstancesEqualAlone(open, f32, 4) is { } streams ? (false, streams) : (true, "every row bitwise equal")));

        report.Run("sampling on the device == the host sampler's ids (every mode)", () =>
        {
            using Accelerator accelerator = open();
            IReadOnlyList<string> wrong = SamplingChecks.Compare(accelerator, 300, 257, 3);
            return (wrong.Count == 0, wrong.Count == 0 ? $"{SamplingChecks.Cases.Count} modes, ties, a NaN and an all-banned row: every id equal" : string.Join("; ", wrong));
        });
        report.Run("sampled requests together, chosen on the device == each alone", () => (SampledDecodeCheck.Run(open, f32, 5) is { } sampled ? (false, sampled) : (true, "every token equal")));

        using NativeModelWeights fourHeads = CheckWeights.Create(CheckWeights.Config(embedding: 28, heads: 4));
        report.Run("tensor parallel: 2 shards on one device == TP 1 greedy", () => TensorParallel(open, fourHeads, 2));
        report.Run("tensor parallel: 3 shards on one device == TP 1 greedy", () => TensorParallel(open, f32, 3));
        report.Run("device-only step (counters)", () =>
        {
            using var accelerator = (IlgpuAccelerator)open();
            string? problem = DeviceOnlyCheck.Run(accelerator, f32, out long managed);
            string measured = $"{managed:N0} managed bytes allocated by a warm 3-row decode step{(cuda ? string.Empty : " (ILGPU CPU runtime included)")}";
            return problem is null ? (true, $"every operation launched kernels; no device allocation after warm-up; only logits came back; {measured}") : (false, $"{problem}; {measured}");
        });
        report.Run("start-up errors are one clear line", () => Errors(cuda, device, f32));
        report.Run($"preset weights generated on the device == the host generator's, bitwise ({(cuda ? "gpt2's shapes" : "small odd shapes")})", () => PresetGeneration(open, cuda));

        if (bench && cuda)
        {
            report.Line("decode timing (random GPT-2 small weights; torch_graph_peer.py runs beside it):");
            using NativeModelWeights gpt2 = Gpt2Presets.Create(Gpt2Presets.Gpt2);
            // The split-K chunk is a first guess; timing two sizes in the same visit says which way to go.
            foreach ((TensorDType type, int chunk) in ((TensorDType, int)[])[(TensorDType.F32, 256), (TensorDType.BF16, 256), (TensorDType.BF16, 64)])
            {
                int ordinal = DeviceSpec.Parse(device).Ordinal;
                report.Run($"bench-decode gpt2 {type} weights, split-K chunk {chunk}", () =>
                {
                    foreach (string line in DecodeBench.Run(() => IlgpuDevices.OpenCuda(ordinal, chunk), gpt2, type, [1, 8, 32], 64))
                    {
                        report.Line(line);
                    }

                    return (true, "timed");
                });
            }

            FastGemmBench(report, open, openFast!, gpt2, includeBaseline: false);
            foreach (TensorDType held in (TensorDType[])[TensorDType.BF16, TensorDType.F32])
            {
                report.Run($"gptj-6b weights generated on the device ({held} matrices, F32 vectors)", () =>
                {
                    using var accelerator = (IlgpuAccelerator)open();
                    (double seconds, long bytes) = PresetGenerationCheck.TimePreset(accelerator, Gpt2Presets.GptJ6B, held);
                    return (true, $"{bytes / 1e9:F2} GB in {seconds:F2} s ({bytes / seconds / 1e9:F0} GB/s written; no host copy)");
                });
            }

            report.Run("sampling timing (GPT-2's vocabulary of 50 257; device vs rows to the host)", () =>
            {
                using Accelerator accelerator = open();
                foreach (string line in SamplingBench.Run(accelerator, 50_257, [1, 32, 128], 20))
                {
                    report.Line(line);
                }

                return (true, "timed");
            });
        }

        else if (bench)
        {
            // On ILGPU's CPU accelerator the timing means nothing; running it on the tiny model keeps the code path alive in CI.
            report.Run("bench-decode (tiny model, ILGPU CPU: path check only)", () =>
            {
                foreach (string line in DecodeBench.Run(open, f32, TensorDType.BF16, [1, 3], 3))
                {
                    report.Line(line);
                }

                return (true, "ran");
            });
            report.Run("sampling timing (ILGPU CPU: path check only)", () =>
            {
                using Accelerator accelerator = open();
                foreach (string line in SamplingBench.Run(accelerator, 300, [2], 1))
                {
                    report.Line(line);
                }

                return (true, "ran");
            });
        }

        return report.Finish(outDirectory);
    }

    private static (bool, string) Kernels(Func<Accelerator> open)
    {
        using Accelerator accelerator = open();
        using var checks = new KernelChecks(accelerator);
        var errors = new List<(string Name, double Error)>
        {
            ("matmul F32 5x37x29 +bias gelu", checks.MatMul(5, 37, 29, TensorDType.F32, MatrixLayout.InputMajor, true, KernelActivation.GeluTanh, false)),
            ("matmul F32 3x19x23 output-major accumulate", checks.MatMul(3, 19, 23, TensorDType.F32, MatrixLayout.OutputMajor, true, KernelActivation.None, true)),
            ("matmul F16 7x33x17 exact gelu", checks.MatMul(7, 33, 17, TensorDType.F16, MatrixLayout.InputMajor, true, KernelActivation.GeluExact, false)),
            ("matmul F32 5x600x37 split-K", checks.MatMul(5, 600, 37, TensorDType.F32, MatrixLayout.InputMajor, true, KernelActivation.GeluTanh, true)),
            ("matmul BF16 6x21x31 relu no bias", checks.MatMul(6, 21, 31, TensorDType.BF16, MatrixLayout.OutputMajor, false, KernelActivation.Relu, false)),
            ("layer norm 5x37", checks.LayerNorm(5, 37)),
            ("activate gelu-tanh 101", checks.Activate(101, KernelActivation.GeluTanh)),
            ("activate gelu-exact 101", checks.Activate(101, KernelActivation.GeluExact)),
            ("embeddings F32 5x21 (vocab 43)", checks.Embeddings(5, 21, 43, 11, TensorDType.F32)),
            ("embeddings BF16 3x19 (vocab 29)", checks.Embeddings(3, 19, 29, 7, TensorDType.BF16)),
            ("kv store + attention 5 slots, 3 heads x 7, capacity 9", checks.Attention(5, 3, 9, 7, 2)),
            ("kv store + attention F16 KV 4 slots, 2 heads x 9, capacity 7", checks.Attention(4, 2, 7, 9, 1, TensorDType.F16)),
            ("kv store + attention BF16 KV 3 slots, 3 heads x 8, capacity 6", checks.Attention(3, 3, 6, 8, 2, TensorDType.BF16)),
            ("bias+residual, gather, overlapping copy 5x13", checks.RowsAndCopies(5, 13)),
        };
        (string name, double error) = errors.MaxBy(e => e.Error);
        // Fused kernels must give the separate kernels' bits on the device too, not merely close values.
        int fusedMismatches = checks.FusedAttentionMismatches(4, 6, 2, 40, 64, TensorDType.F16) + checks.FusedAttentionMismatches(3, 12, 12, 33, 64, TensorDType.F32);
        return (error < 1e-5 && fusedMismatches == 0, $"{errors.Count} checks, worst rel L2 {error:E2} ({name}); bound 1e-5; fused attention vs separate kernels: {fusedMismatches} elements differ (0 expected)");
    }

    private static (bool, string) PresetGeneration(Func<Accelerator> open, bool cuda)
    {
        using var accelerator = (IlgpuAccelerator)open();
        // gpt2's token embedding (held output-major, as the LM head), an MLP matrix and the position
        // table; on ILGPU's CPU accelerator, which runs each thread as managed code, small odd shapes.
        GeneratedTensor Recipe(string name, long[] shape, TensorDType dtype) =>
            new(name, cuda ? shape : [.. shape.Select(d => (d % 61) + 7)], PresetFill.Normal, PresetWeightGenerator.InitializerRange, StreamKey.For(Gpt2Presets.DefaultSeed, name), dtype);
        var cases = new List<(string Name, long Mismatches)>
        {
            ("wte F32 -> F32 output-major", PresetGenerationCheck.Mismatches(accelerator, Recipe("transformer.wte.weight", [50257, 768], TensorDType.F32), MatrixLayout.OutputMajor, TensorDType.F32)),
            ("wte F32 -> BF16 output-major", PresetGenerationCheck.Mismatches(accelerator, Recipe("transformer.wte.weight", [50257, 768], TensorDType.F32), MatrixLayout.OutputMajor, TensorDType.BF16)),
            ("c_fc F32 -> F16", PresetGenerationCheck.Mismatches(accelerator, Recipe("transformer.h.0.mlp.c_fc.weight", [768, 3072], TensorDType.F32), MatrixLayout.InputMajor, TensorDType.F16)),
            ("c_fc BF16 -> BF16", PresetGenerationCheck.Mismatches(accelerator, Recipe("transformer.h.0.mlp.c_fc.weight", [768, 3072], TensorDType.BF16), MatrixLayout.InputMajor, TensorDType.BF16)),
            ("c_fc F16 -> F32", PresetGenerationCheck.Mismatches(accelerator, Recipe("transformer.h.0.mlp.c_fc.weight", [768, 3072], TensorDType.F16), MatrixLayout.InputMajor, TensorDType.F32)),
            ("wpe F32 vector", PresetGenerationCheck.Mismatches(accelerator, Recipe("transformer.wpe.weight", [1024, 768], TensorDType.F32), null, TensorDType.F32)),
        };
        long total = cases.Sum(c => c.Mismatches);
        return (total == 0, total == 0 ? $"{cases.Count} tensors, every element equal" : string.Join("; ", cases.Where(c => c.Mismatches > 0).Select(c => $"{c.Name}: {c.Mismatches:N0} elements differ")));
    }

    private static (bool, string) Model(Func<Accelerator> open, IModelWeights weights, TensorDType? type, int[] prompt, double bound, TensorDType kvType = TensorDType.F32)
    {
        ModelComparison result = ModelChecks.AgainstCpuEngine(open, weights, type, prompt, 6, kvType);
        return (result.WorstRelativeL2 < bound && result.GreedyEqual, $"worst row rel L2 {result.WorstRelativeL2:E2} (bound {bound:E0}); greedy {(result.GreedyEqual ? "equal" : "DIFFERENT")}: [{string.Join(", ", result.Greedy)}]");
    }

    private static (bool, string) TensorParallel(Func<Accelerator> open, IModelWeights weights, int shards)
    {
        var options = new Gpt2ModelOptions(SlotCount: 1, SlotCapacity: 20, MaxRowsPerStep: 8);
        int[] prompt = [4, 8, 15, 16, 23, 42];
        int[] single;
        using (Accelerator accelerator = open())
        using (var model = new Gpt2Model(accelerator, weights, options))
        {
            single = ModelChecks.Greedy(model, prompt, 8);
        }

        using var sharded = new ShardedModel(open, weights, options, shards);
        int[] split = ModelChecks.Greedy(sharded, prompt, 8);
        return (split.SequenceEqual(single), $"TP1 [{string.Join(", ", single)}], TP{shards} [{string.Join(", ", split)}] (collectives via host copies)");
    }

    private static (bool, string) Errors(bool cuda, string device, IModelWeights weights)
    {
        var lines = new List<string>();
        bool ok = true;
        void Expect(string what, Func<IDisposable> action, string mustContain)
        {
            try
            {
                action().Dispose();
                ok = false;
                lines.Add($"{what}: no error");
            }
            catch (FloverException exception)
            {
                bool good = exception.Message.Contains(mustContain, StringComparison.OrdinalIgnoreCase) && !exception.Message.Contains('\n');
                ok &= good;
                lines.Add($"{what}: {exception.Message}");
            }
        }

        Expect("memory plan of a KV pool larger than the device", () =>
        {
            using IlgpuAccelerator accelerator = cuda ? IlgpuDevices.OpenCuda(DeviceSpec.Parse(device).Ordinal) : IlgpuDevices.OpenCpuOracle(memoryLimit: 1 << 20);
            DeviceMemoryPlan.Check(accelerator, weights, new Gpt2ModelOptions(SlotCount: cuda ? 1 << 24 : 64, SlotCapacity: 40));
            return accelerator;
        }, "KV pool");
        if (cuda)
        {
            Expect("cuda:99", () => IlgpuDevices.OpenCuda(99), "cuda:0");
            Expect("KV pool larger than the device", () =>
            {
                using IlgpuAccelerator accelerator = IlgpuDevices.OpenCuda(DeviceSpec.Parse(device).Ordinal);
                // 2^24 slots of 40 positions (338 GB of KV): more than any GPU holds.
                return new Gpt2Model(accelerator, weights, new Gpt2ModelOptions(SlotCount: 1 << 24, SlotCapacity: 40));
            }, "bytes needed");
        }
        else
        {
            Expect("cuda with no driver", () => IlgpuDevices.OpenCuda(0), "cuda");
            Expect("KV pool larger than the device", () =>
            {
                IlgpuAccelerator accelerator = IlgpuDevices.OpenCpuOracle(memoryLimit: 1 << 20);
                try
                {
                    return new Gpt2Model(accelerator, weights, new Gpt2ModelOptions(SlotCount: 64, SlotCapacity: 40));
                }
                finally
                {
                    accelerator.Dispose();
                }
            }, "bytes needed");
        }

        Expect("bad device setting", () => throw new FloverException(Catch(() => DeviceSpec.Parse("gpu0"))), "cuda:N");
        Expect("batch-invariant = off on the cpu device", () => DeviceAccelerators.Open(DeviceSpec.Cpu, new EngineOptions(1) { BatchInvariant = false }), "needs a CUDA device");
        return (ok, string.Join(" | ", lines));
    }

    private static string Catch(Action action)
    {
        try
        {
            action();
            return "no error";
        }
        catch (FloverException exception)
        {
            return exception.Message;
        }
    }

    private static string? Option(string[] args, string name)
    {
        int index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    /// <summary>Collects check results, echoes them and writes them out.</summary>
    private sealed class Report(TextWriter console)
    {
        private readonly List<string> _lines = [];
        private int _failures;

        public void Line(string text)
        {
            _lines.Add(text);
            console.WriteLine(text);
            console.Flush();
        }

        public void Check(string name, bool passed, string detail)
        {
            _failures += passed ? 0 : 1;
            Line($"{(passed ? "PASS" : "FAIL")} {name}: {detail}");
        }

        public void Run(string name, Func<(bool Passed, string Detail)> check)
        {
            var timer = Stopwatch.StartNew();
            try
            {
                (bool passed, string detail) = check();
                Check(name, passed, $"{detail} [{timer.Elapsed.TotalSeconds:F2} s]");
            }
            catch (Exception exception)
            {
                Check(name, false, $"{exception.GetType().Name}: {exception.Message} [{timer.Elapsed.TotalSeconds:F2} s]");
            }
        }

        public int Finish(string? outDirectory)
        {
            Line(_failures == 0 ? "ALL CHECKS PASSED" : $"{_failures} CHECK(S) FAILED");
            if (outDirectory is not null)
            {
                Directory.CreateDirectory(outDirectory);
                File.WriteAllLines(Path.Combine(outDirectory, "results.txt"), _lines);
            }

            return _failures == 0 ? 0 : 1;
        }
    }
}
