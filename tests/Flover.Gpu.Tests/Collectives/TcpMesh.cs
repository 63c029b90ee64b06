using System.Net;
using Flover.Gpu.Collectives.Tcp;

namespace Flover.Gpu.Tests.Collectives;

/// <summary>
/// A <see cref="TcpCommunicator"/> mesh of ranks in this process over loopback, formed exactly as
/// separate processes form it (a listener each, every rank dialling the others). Shared by the TCP
/// tests of host buffers here and of device buffers in the ILGPU tests, which link this file.
/// </summary>
internal static class TcpMesh
{
    /// <summary>Forms a mesh of <paramref name="size"/> ranks within <paramref name="limit"/>; a rank's failure to join is thrown as it is.</summary>
    public static TcpCommunicator[] Form(int size, TimeSpan limit, Func<int, TcpCommunicatorOptions>? options = null)
    {
        TcpCommunicatorListener[] listeners = [.. Enumerable.Range(0, size).Select(_ => new TcpCommunicatorListener(new IPEndPoint(IPAddress.Loopback, 0)))];
        try
        {
            IPEndPoint[] endpoints = [.. listeners.Select(l => l.Endpoint)];
            Task<TcpCommunicator>[] joining = [.. Enumerable.Range(0, size).Select(rank => TcpCommunicator.ConnectAsync(listeners[rank], rank, endpoints, options?.Invoke(rank)))];
            try
            {
                Task.WhenAll(joining).WaitAsync(limit).GetAwaiter().GetResult();
            }
            catch (Exception) when (joining.Any(j => j.IsFaulted))
            {
                foreach (Task<TcpCommunicator> formed in joining.Where(j => j.IsCompletedSuccessfully))
                {
                    formed.Result.Dispose();
                }

                throw joining.First(j => j.IsFaulted).Exception!.InnerException!;
            }

            return [.. joining.Select(j => j.Result)];
        }
        finally
        {
            foreach (TcpCommunicatorListener listener in listeners)
            {
                listener.Dispose();
            }
        }
    }

    /// <summary>Closes every rank's connections.</summary>
    public static void Dispose(TcpCommunicator[] mesh)
    {
        foreach (TcpCommunicator rank in mesh)
        {
            rank.Dispose();
        }
    }
}
