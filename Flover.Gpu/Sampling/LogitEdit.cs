namespace Flover.Gpu.Sampling;

/// <summary>Which of a <see cref="LogitEdit"/>'s steps apply to its token, in the order they run.</summary>
[Flags]
public enum LogitEditKinds
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>The repetition penalty: a positive logit divided by it, a negative one multiplied.</summary>
    Repetition = 1,

    /// <summary>The presence and frequency penalties: <see cref="LogitEdit.Subtract"/> taken off.</summary>
    Subtract = 2,

    /// <summary>The logit bias: <see cref="LogitEdit.Bias"/> added.</summary>
    Bias = 4,

    /// <summary>The min-tokens rule: the token (an end-of-sequence) set to −∞.</summary>
    Ban = 8,
}

/// <summary>
/// What <see cref="RequestSampler"/>'s logit processors do to one token's logit before the choice,
/// as data, so they can run where the logits are: each step in <see cref="LogitEditKinds"/>' order,
/// with the same float operations the host sampler performs.
/// </summary>
/// <param name="Token">The token.</param>
/// <param name="Kinds">The steps that apply.</param>
/// <param name="RepetitionPenalty">The repetition penalty (when <see cref="LogitEditKinds.Repetition"/>).</param>
/// <param name="Subtract">Presence + frequency × count (when <see cref="LogitEditKinds.Subtract"/>).</param>
/// <param name="Bias">The logit bias (when <see cref="LogitEditKinds.Bias"/>).</param>
public readonly record struct LogitEdit(int Token, LogitEditKinds Kinds, float RepetitionPenalty, float Subtract, float Bias)
{
    /// <summary>The edited logit, as the host sampler computes it.</summary>
    public float Apply(float value)
    {
        if ((Kinds & LogitEditKinds.Repetition) != 0)
        {
            value = value > 0 ? value / RepetitionPenalty : value * RepetitionPenalty;
        }

        if ((Kinds & LogitEditKinds.Subtract) != 0)
        {
            value -= Subtract;
        }

        if ((Kinds & LogitEditKinds.Bias) != 0)
        {
            value += Bias;
        }

        return (Kinds & LogitEditKinds.Ban) != 0 ? float.NegativeInfinity : value;
    }
}
