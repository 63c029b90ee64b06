using System.Globalization;
using System.Text.Json.Serialization;
using Flover.Gpu.Models;

namespace Flover.Host.Cli;

/// <summary>One phase of a profiled decode step (<c>bench-decode --profile</c>).</summary>
/// <param name="Phase">The phase: GPT-2's upload, embed, layer-norm, qkv, kv-write, attention, attention-out, mlp-up, mlp-down, final-norm, lm-head, download, or LLaMA's upload, embed, rms-norm, qkv, rotary, kv-write, attention, attention-out, gate-up, swiglu, mlp-down, final-norm, lm-head, download; <c>host</c> is the step's time outside the model (sampling, the loop).</param>
/// <param name="MillisecondsPerStep">Its time per decode step.</param>
/// <param name="Share">Its share of the step.</param>
/// <param name="MicrosecondsPerCall">Its time per call (a per-layer phase runs once per layer per step).</param>
internal sealed record BenchDecodePhase(
    string Phase,
    [property: JsonPropertyName("ms_per_step")] double MillisecondsPerStep,
    double Share,
    [property: JsonPropertyName("us_per_call")] double MicrosecondsPerCall);

/// <summary>Turns a <see cref="StepProfile"/> into per-step figures and prints them.</summary>
internal static class BenchDecodeProfile
{
    /// <summary>The phases of <paramref name="profile"/> over <paramref name="steps"/> steps of <paramref name="stepMilliseconds"/> each, plus the host's remainder.</summary>
    public static IReadOnlyList<BenchDecodePhase> Of(StepProfile profile, int steps, double stepMilliseconds)
    {
        var phases = profile.Phases
            .Select(p => new BenchDecodePhase(p.Name, p.Time.TotalMilliseconds / steps, p.Time.TotalMilliseconds / steps / stepMilliseconds, p.Time.TotalMicroseconds / p.Calls))
            .ToList();
        // What the model's phases do not cover: sampling each row and the benchmark's own loop.
        double host = Math.Max(0, stepMilliseconds - (profile.Total.TotalMilliseconds / steps));
        phases.Add(new BenchDecodePhase("host", host, host / stepMilliseconds, host * 1000));
        return phases;
    }

    public static void Write(BenchDecodeRun run, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"profile of batch {run.Batch} ({run.DType} weights, {run.KvDType} KV): every phase synchronised, so the step is slower than unprofiled");
        output.WriteLine($"{"phase",-14} {"ms/step",9} {"share",7} {"us/call",9}");
        foreach (BenchDecodePhase phase in run.Profile!)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{phase.Phase,-14} {phase.MillisecondsPerStep,9:F3} {phase.Share,7:P1} {phase.MicrosecondsPerCall,9:F1}"));
        }
    }
}
