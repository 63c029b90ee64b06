namespace Flover.Actors.Inference.Sharding.Collectives;

/// <summary>
/// One piece of a collective's payload from rank <paramref name="Source"/> to one peer over
/// Akka.Remote (<see cref="AkkaRemoteCommunicator"/>): the floats travel as their raw bytes
/// (Flover's serializer, manifest <c>CC</c>).
/// </summary>
/// <param name="Sequence">The sender's exchange number: both sides count exchanges the same way, so a piece out of step is detected.</param>
/// <param name="Source">The sending rank.</param>
/// <param name="Offset">Where the piece starts in the exchange's payload, in bytes.</param>
/// <param name="Payload">The piece's bytes (little-endian floats, or empty for a barrier).</param>
internal sealed record CollectiveChunk(long Sequence, int Source, long Offset, byte[] Payload);
