namespace Flover.Gpu.Checkpoints;

/// <summary>The consistency checks between the header's entries and the data section.</summary>
internal static partial class SafetensorsHeaderParser
{
    private static void ValidateEntry(SafetensorsEntry entry, string file)
    {
        int size = SafetensorsDTypes.TryGetSize(entry.DTypeName)
            ?? throw new FloverException($"{file}: tensor '{entry.Name}' has unsupported dtype '{entry.DTypeName}' (Flover reads F32, F16 and BF16).");

        if (entry.Begin > entry.End)
        {
            throw new FloverException($"{file}: tensor '{entry.Name}' has data_offsets [{entry.Begin}, {entry.End}] that end before they begin.");
        }

        long expectedBytes;
        try
        {
            long elements = 1;
            foreach (long dim in entry.Shape)
            {
                elements = checked(elements * dim);
            }

            expectedBytes = checked(elements * size);
        }
        catch (OverflowException)
        {
            throw new FloverException($"{file}: tensor '{entry.Name}' has shape {entry.ShapeText}, too large to address.");
        }

        if (expectedBytes != entry.ByteLength)
        {
            throw new FloverException(
                $"{file}: tensor '{entry.Name}' has shape {entry.ShapeText} of {entry.DTypeName} ({expectedBytes} bytes) but data_offsets [{entry.Begin}, {entry.End}] hold {entry.ByteLength} bytes.");
        }
    }

    private static void ValidateCoverage(List<SafetensorsEntry> entries, long dataLength, string file)
    {
        // Sorted by start (empty tensors first at a shared offset), the ranges must tile
        // [0, dataLength) exactly: an overlap means two tensors alias each other's bytes, a hole or a
        // tail means the header and the data disagree; both are corruption, never a valid file.
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long cursor = 0;
        SafetensorsEntry? previous = null;
        foreach (SafetensorsEntry entry in entries)
        {
            if (entry.End > dataLength)
            {
                throw new FloverException(
                    $"{file}: tensor '{entry.Name}' has data_offsets [{entry.Begin}, {entry.End}] beyond the {dataLength}-byte data section: the file is truncated or its offsets are out of range.");
            }

            if (entry.Begin < cursor)
            {
                throw new FloverException(
                    $"{file}: tensor '{entry.Name}' [{entry.Begin}, {entry.End}) overlaps tensor '{previous!.Name}' [{previous.Begin}, {previous.End}).");
            }

            if (entry.Begin > cursor)
            {
                string after = previous is null ? "the start of the data section" : $"tensor '{previous.Name}'";
                throw new FloverException(
                    $"{file}: bytes [{cursor}, {entry.Begin}) of the data section, between {after} and tensor '{entry.Name}', belong to no tensor.");
            }

            if (entry.ByteLength > 0)
            {
                cursor = entry.End;
                previous = entry;
            }
        }

        if (cursor != dataLength)
        {
            string last = previous is null ? "no tensor" : $"tensor '{previous.Name}' (the last one)";
            throw new FloverException(
                $"{file}: the data section has {dataLength} bytes but tensors cover only {cursor}; the {dataLength - cursor} bytes after {last} belong to no tensor.");
        }
    }
}
