using Flover.Gpu.Tests.Reference;

namespace Flover.Host.Tests.Http;

/// <summary>A fact that runs only where <c>node</c> and <c>npm</c> are on PATH (our machines and CI have them).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NodeFactAttribute : FactAttribute
{
    public NodeFactAttribute()
    {
        if (ChildProcess.Find("node") is null || ChildProcess.Find("npm") is null)
        {
            Skip = "node and npm are not on PATH";
        }
    }
}
