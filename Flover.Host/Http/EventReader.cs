using System.Threading.Channels;

namespace Flover.Host.Http;

/// <summary>
/// Reads a request's engine messages with a time limit per wait, so a quiet stream can send
/// keep-alive comments. A wait that times out stays pending and is reused by the next call:
/// the channel has a single reader, which must not wait twice at once.
/// </summary>
internal sealed class EventReader
{
    private readonly ChannelReader<object> _events;
    private readonly TimeProvider _clock;
    private Task<bool>? _pending;

    public EventReader(ChannelReader<object> events, TimeProvider clock)
    {
        _events = events;
        _clock = clock;
    }

    /// <summary>What one wait gave.</summary>
    public enum Outcome
    {
        /// <summary>A message (in <c>message</c>).</summary>
        Message,

        /// <summary>Nothing arrived within the limit.</summary>
        Quiet,

        /// <summary>The stream ended (after its last message, or cancelled).</summary>
        Ended,
    }

    /// <summary>The next message, or <see cref="Outcome.Quiet"/> after <paramref name="limit"/> without one.</summary>
    public async Task<(Outcome Outcome, object? Message)> NextAsync(TimeSpan limit)
    {
        while (true)
        {
            if (_events.TryRead(out object? message))
            {
                return (Outcome.Message, message);
            }

            _pending ??= _events.WaitToReadAsync().AsTask();
            if (!_pending.IsCompleted)
            {
                using var timer = new CancellationTokenSource();
                Task delay = Task.Delay(limit, _clock, timer.Token);
                if (await Task.WhenAny(_pending, delay).ConfigureAwait(false) == delay)
                {
                    return (Outcome.Quiet, null);
                }

                await timer.CancelAsync().ConfigureAwait(false);
            }

            bool more = await _pending.ConfigureAwait(false);
            _pending = null;
            if (!more)
            {
                return (Outcome.Ended, null);
            }
        }
    }
}
