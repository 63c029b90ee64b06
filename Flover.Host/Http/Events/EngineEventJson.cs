using Flover.Actors.Inference;

namespace Flover.Host.Http.Events;

/// <summary>
/// The JSON of one <c>/v1/engine/events</c> event (docs/HTTP.md): an <see cref="IterationSummary"/>
/// with snake_case names, slots as one letter each (<c>f</c> free, <c>h</c> held, <c>o</c> a hole)
/// beside the holding request ids, shuffle moves as [from, to] pairs, and the latencies of the
/// latest finished requests. Counts, ids and times only.
/// </summary>
internal static class EngineEventJson
{
    public static byte[] Render(IterationSummary summary, IReadOnlyList<RecentRequest> recent) => JsonOutput.Object(json =>
    {
        json.WriteString("start", summary.Start);
        json.WriteString("end", summary.End);
        json.WriteString("scheduler", summary.Kind);
        json.WriteNumber("iterations", summary.Iterations);
        json.WriteStartArray("rows_per_step");
        foreach (int rows in summary.RowsPerStep)
        {
            json.WriteNumberValue(rows);
        }

        json.WriteEndArray();
        json.WriteNumber("max_rows", summary.MaxRows);
        json.WriteNumber("mean_rows", Math.Round(summary.MeanRows, 3));
        json.WriteNumber("tokens", summary.Tokens);
        json.WriteNumber("tokens_per_second", Math.Round(summary.TokensPerSecond, 1));
        json.WriteString("slots", string.Concat(summary.Slots.Select(Letter)));
        json.WriteStartArray("slot_requests");
        foreach (KvSlot slot in summary.Slots)
        {
            if (slot.RequestId is long id)
            {
                json.WriteNumberValue(id);
            }
            else
            {
                json.WriteNullValue();
            }
        }

        json.WriteEndArray();
        json.WriteStartArray("moves");
        foreach (Gpu.Memory.SlotMove move in summary.Moves)
        {
            json.WriteStartArray();
            json.WriteNumberValue(move.From);
            json.WriteNumberValue(move.To);
            json.WriteEndArray();
        }

        json.WriteEndArray();
        json.WriteNumber("waiting", summary.Waiting);
        json.WriteNumber("running", summary.Running);
        json.WriteStartArray("recent_requests");
        foreach (RecentRequest request in recent)
        {
            json.WriteStartObject();
            json.WriteNumber("ttft_ms", Math.Round(request.TimeToFirstTokenMs, 1));
            if (request.TimePerOutputTokenMs is double perToken)
            {
                json.WriteNumber("tpot_ms", Math.Round(perToken, 2));
            }
            else
            {
                json.WriteNull("tpot_ms");
            }

            json.WriteNumber("tokens", request.Tokens);
            json.WriteString("finish_reason", request.FinishReason);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    });

    private static char Letter(KvSlot slot) => slot.State switch
    {
        KvSlotState.Held => 'h',
        KvSlotState.Hole => 'o',
        _ => 'f',
    };
}
