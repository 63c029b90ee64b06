namespace Flover.Actors.Inference;

/// <summary>
/// Finds stop sequences in streamed text. Text that may be the start of a stop sequence is held
/// back until it either completes one (the text before it is released and matching ends) or can no
/// longer do so. A pure class: the RequestActor feeds it text deltas.
/// </summary>
public sealed class StopSequenceMatcher
{
    private readonly string[] _stops;
    private string _held = string.Empty;

    /// <summary>Creates a matcher; empty stop strings are ignored.</summary>
    public StopSequenceMatcher(IEnumerable<string>? stops)
    {
        _stops = (stops ?? []).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>True once a stop sequence was found.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds <paramref name="delta"/>; returns the text now safe to emit.</summary>
    public string Append(string delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        if (Stopped)
        {
            return string.Empty;
        }

        string text = _held + delta;
        int earliest = -1;
        foreach (string stop in _stops)
        {
            int index = text.IndexOf(stop, StringComparison.Ordinal);
            if (index >= 0 && (earliest < 0 || index < earliest))
            {
                earliest = index;
            }
        }

        if (earliest >= 0)
        {
            Stopped = true;
            _held = string.Empty;
            return text[..earliest];
        }

        int hold = 0;
        foreach (string stop in _stops)
        {
            // The longest suffix of the text that is a proper prefix of this stop sequence.
            for (int length = Math.Min(stop.Length - 1, text.Length); length > hold; length--)
            {
                if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    hold = length;
                    break;
                }
            }
        }

        _held = text[(text.Length - hold)..];
        return text[..(text.Length - hold)];
    }

    /// <summary>At the end of generation: releases what was held back (it completed no stop sequence).</summary>
    public string Flush()
    {
        string held = Stopped ? string.Empty : _held;
        _held = string.Empty;
        return held;
    }
}
