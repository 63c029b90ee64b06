namespace Flover.Gpu.Tests.Reference;

/// <summary>
/// A fact that compares with Hugging Face's JavaScript (node + npm). Skipped where node or npm is
/// missing, except under <c>CI=true</c>: there it runs and fails, so CI cannot silently lose the check.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ReferenceFactAttribute : FactAttribute
{
    public ReferenceFactAttribute()
    {
        if (!NodeReference.Available && !NodeReference.RequiredByCi)
        {
            Skip = "node and npm are not on PATH (under CI=true this fails instead)";
        }
    }
}
