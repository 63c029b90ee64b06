namespace Flover.GpuCheck;

/// <summary>The entry point: <c>Flover.GpuCheck --device cuda|ilgpu-cpu [--out DIR] [--bench]</c>; exit 0 when every check passed.</summary>
internal static class Program
{
    public static int Main(string[] args) => GpuCheckRunner.Run(args, Console.Out);
}
