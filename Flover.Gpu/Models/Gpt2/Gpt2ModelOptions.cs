namespace Flover.Gpu.Models.Gpt2;

/// <summary>How much memory a <see cref="Gpt2Model"/> sets aside at start-up.</summary>
/// <param name="SlotCount">KV slots: sequences in flight at once.</param>
/// <param name="SlotCapacity">Positions per slot; 0 means the model's maximum positions.</param>
/// <param name="MaxRowsPerStep">Rows (tokens) one forward pass runs; longer prefills are split into passes of this many rows, with bitwise the same results.</param>
public sealed record Gpt2ModelOptions(int SlotCount, int SlotCapacity = 0, int MaxRowsPerStep = 256);
