using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Flover.Gpu.Tests.Reference;

namespace Flover.Host.Tests.Http;

/// <summary>Start-up failures are fast and one line: the port is bound before the model is loaded.</summary>
[Trait("Category", "Slow")]
public sealed class ServeStartupTests
{
    [Fact]
    public async Task A_port_in_use_is_one_line_and_exit_1_before_the_model_is_loaded()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        string dotnet = ChildProcess.Find("dotnet") ?? Environment.ProcessPath ?? "dotnet";

        var clock = Stopwatch.StartNew();
        (int exit, string stdout, string stderr) = await ChildProcess.RunAsync(
            dotnet,
            [Path.Combine(AppContext.BaseDirectory, "flover.dll"), "serve", "--preset", "gpt2-medium", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            AppContext.BaseDirectory,
            TimeSpan.FromMinutes(2));

        Assert.Equal(1, exit);
        Assert.Equal(string.Empty, stdout);
        // gpt2-medium would take many seconds to generate and load: the error comes before any of it.
        Assert.Equal($"error: cannot listen on 127.0.0.1:{port}: address already in use", stderr.TrimEnd());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }
}
