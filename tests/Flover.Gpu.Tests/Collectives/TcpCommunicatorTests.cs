using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Collectives;
using Flover.Gpu.Collectives.Tcp;

namespace Flover.Gpu.Tests.Collectives;

/// <summary>
/// The TCP data path for collectives between processes (here: ranks on threads over loopback):
/// results bitwise equal to the in-process group's, mutual TLS that refuses a stranger, and a lost
/// or aborted peer that ends a waiting collective instead of hanging it.
/// </summary>
[Trait("Category", "Slow")]
public sealed class TcpCommunicatorTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);
    private readonly RankHarness _ranks = new(Limit);

    public void Dispose() => _ranks.Dispose();

    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 2304)]
    [InlineData(3, 7)]
    [InlineData(3, 100_003)]
    public void All_reduce_over_tcp_is_bitwise_the_in_process_group_s(int size, int length)
    {
        // Values over many binades, so a different order of additions would show in the last bits.
        var random = new Random(length + size);
        float[][] inputs = [.. Enumerable.Range(0, size).Select(_ => Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-20, 20)))).ToArray())];
        var group = new InProcessCommunicatorGroup(size);
        float[][] inProcess = _ranks.OnEveryRank(size, rank => _ranks.Reduce(group[rank], inputs[rank]));

        TcpCommunicator[] mesh = Mesh(size);
        float[][] overTcp = _ranks.OnEveryRank(size, rank => _ranks.Reduce(mesh[rank], inputs[rank]));

        for (int rank = 0; rank < size; rank++)
        {
            Assert.Equal(inProcess[rank], overTcp[rank]);
            Assert.Equal(overTcp[0], overTcp[rank]);
        }

        Dispose(mesh);
    }

    [Fact]
    public void All_gather_of_uneven_column_slices_broadcast_and_barrier_give_every_rank_the_same_data()
    {
        int[] offsets = [0, 5, 6, 13];
        const int Rows = 4;
        TcpCommunicator[] mesh = Mesh(3);

        float[][] gathered = _ranks.OnEveryRank(3, rank =>
        {
            int width = offsets[rank + 1] - offsets[rank];
            float[] local = [.. Enumerable.Range(0, Rows * width).Select(i => (rank * 1000f) + i)];
            using MemoryBuffer<float> source = _ranks.Upload(local);
            using MemoryBuffer<float> target = _ranks.Accelerator.Allocate<float>(Rows * 13);
            mesh[rank].AllGatherColumns(source.View, Rows, offsets, target.View, 13);
            mesh[rank].Barrier();
            return _ranks.Download(target);
        });
        float[][] broadcast = _ranks.OnEveryRank(3, rank =>
        {
            using MemoryBuffer<float> data = _ranks.Upload(rank == 1 ? [1.5f, -2f, 3.25f] : [0f, 0f, 0f]);
            mesh[rank].Broadcast(data.View, root: 1);
            return _ranks.Download(data);
        });

        float[] expected = RankHarness.GatheredRows(offsets, Rows);

        Assert.All(gathered, g => Assert.Equal(expected, g));
        Assert.All(broadcast, b => Assert.Equal([1.5f, -2f, 3.25f], b));
        Dispose(mesh);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void Gather_to_one_root_gives_the_root_the_all_gathers_rows_and_leaves_the_others_buffers_alone(int root)
    {
        int[] offsets = [0, 5, 6, 13];
        const int Rows = 4;
        TcpCommunicator[] mesh = Mesh(3);

        float[][] gathered = _ranks.OnEveryRank(3, rank =>
        {
            int width = offsets[rank + 1] - offsets[rank];
            using MemoryBuffer<float> source = _ranks.Upload([.. Enumerable.Range(0, Rows * width).Select(i => (rank * 1000f) + i)]);
            using MemoryBuffer<float> target = _ranks.Upload([.. Enumerable.Repeat(-7f, Rows * 13)]);
            mesh[rank].GatherColumns(source.View, Rows, offsets, target.View, 13, root);
            // The mesh stays in step afterwards: nothing a non-root rank skipped is left in a socket.
            mesh[rank].Barrier();
            return _ranks.Download(target);
        });

        float[] expected = RankHarness.GatheredRows(offsets, Rows);

        for (int rank = 0; rank < 3; rank++)
        {
            Assert.Equal(rank == root ? expected : [.. Enumerable.Repeat(-7f, Rows * 13)], gathered[rank]);
        }

        Dispose(mesh);
    }

    [Fact]
    public void With_mutual_tls_the_group_works_and_a_peer_the_root_did_not_issue_is_refused()
    {
        using X509Certificate2 root = Authority("CN=flover-cluster-ca", out ECDsa rootKey);
        using X509Certificate2 stranger = Authority("CN=someone-else", out ECDsa strangerKey);
        using X509Certificate2 first = Issue(root, rootKey, "CN=rank-0");
        using X509Certificate2 second = Issue(root, rootKey, "CN=rank-1");
        using X509Certificate2 intruder = Issue(stranger, strangerKey, "CN=rank-1");

        TcpCommunicator[] mesh = Mesh(2, rank => new TcpCommunicatorOptions(rank == 0 ? first : second, root));
        float[][] sums = _ranks.OnEveryRank(2, rank => _ranks.Reduce(mesh[rank], [rank + 1f, 10f]));
        Dispose(mesh);

        Assert.All(sums, s => Assert.Equal([3f, 20f], s));
        FloverException refused = Assert.Throws<FloverException>(() => Mesh(2, rank => new TcpCommunicatorOptions(rank == 0 ? first : intruder, root) { ConnectTimeout = TimeSpan.FromSeconds(10) }));
        Assert.Contains("failed mutual TLS authentication", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refused.Message);
        FloverException plain = Assert.Throws<FloverException>(() => Mesh(2, rank => rank == 0 ? new TcpCommunicatorOptions(first, root) { ConnectTimeout = TimeSpan.FromSeconds(10) } : new TcpCommunicatorOptions { ConnectTimeout = TimeSpan.FromSeconds(10) }));
        Assert.StartsWith("tensor-parallel ", plain.Message, StringComparison.Ordinal);
        rootKey.Dispose();
        strangerKey.Dispose();
    }

    [Fact]
    public void Ranks_that_disagree_on_the_group_size_are_refused_naming_both_sizes()
    {
        using var zero = new TcpCommunicatorListener(new IPEndPoint(IPAddress.Loopback, 0));
        using var one = new TcpCommunicatorListener(new IPEndPoint(IPAddress.Loopback, 0));
        using var two = new TcpCommunicatorListener(new IPEndPoint(IPAddress.Loopback, 0));
        var options = new TcpCommunicatorOptions { ConnectTimeout = TimeSpan.FromSeconds(10) };

        Task<TcpCommunicator> lower = TcpCommunicator.ConnectAsync(zero, 0, [zero.Endpoint, one.Endpoint], options);
        Task<TcpCommunicator> higher = TcpCommunicator.ConnectAsync(one, 1, [zero.Endpoint, one.Endpoint, two.Endpoint], options);

        var error = Assert.ThrowsAny<FloverException>(() => lower.WaitAsync(Limit).GetAwaiter().GetResult());
        Assert.EndsWith("is in a group of 3 ranks, this node in one of 2.", error.Message, StringComparison.Ordinal);
        Assert.ThrowsAny<FloverException>(() => higher.WaitAsync(Limit).GetAwaiter().GetResult());
    }

    [Fact]
    public void A_peer_that_dies_or_an_abort_ends_a_waiting_collective_with_the_group_aborted()
    {
        TcpCommunicator[] mesh = Mesh(2);
        using MemoryBuffer<float> data = _ranks.Upload([1f, 2f]);

        // Rank 1 never joins the collective and goes away: rank 0 learns it, naming the rank.
        Task waiting = Task.Run(() => mesh[0].AllReduceSum(data.View));
        mesh[1].Dispose();
        var lost = Assert.Throws<CommunicatorAbortedException>(() => waiting.WaitAsync(Limit).GetAwaiter().GetResult());
        Assert.StartsWith("Tensor-parallel rank 1's connection to rank 0 failed during a collective: ", lost.Message, StringComparison.Ordinal);
        Assert.Equal(1, lost.LostRank);
        mesh[0].Dispose();

        TcpCommunicator[] second = Mesh(2);
        Task blocked = Task.Run(() => second[0].Barrier());
        second[0].Abort();
        var aborted = Assert.Throws<CommunicatorAbortedException>(() => blocked.WaitAsync(Limit).GetAwaiter().GetResult());
        Assert.Equal("The tensor-parallel group was aborted while this rank waited in a collective.", aborted.Message);
        // Its own abort names no peer: nobody else is to blame.
        Assert.Null(aborted.LostRank);
        Dispose(second);
    }

    private static TcpCommunicator[] Mesh(int size, Func<int, TcpCommunicatorOptions>? options = null) => TcpMesh.Form(size, Limit, options);

    private static void Dispose(TcpCommunicator[] mesh) => TcpMesh.Dispose(mesh);

    private static X509Certificate2 Authority(string name, out ECDsa key)
    {
        key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static X509Certificate2 Issue(X509Certificate2 authority, ECDsa authorityKey, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var issuer = X509CertificateLoader.LoadCertificate(authority.RawData).CopyWithPrivateKey(authorityKey);
        using X509Certificate2 issued = request.Create(issuer, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12), RandomNumberGenerator.GetBytes(8));
        issuer.Dispose();
        // Through PKCS#12, so the private key is one the TLS stack can use on every platform.
        using X509Certificate2 withKey = issued.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}
