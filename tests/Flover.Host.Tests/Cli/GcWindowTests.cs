using Flover.Host.Cli;

namespace Flover.Host.Tests.Cli;

public sealed class GcWindowTests
{
    [Fact]
    public void A_collection_inside_the_window_is_counted_with_its_pause()
    {
        GcWindow window = GcWindow.Open();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true);
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);

        (int collections, double paused) = window.Close();

        Assert.True(collections >= 2, $"{collections} collections counted");
        Assert.True(paused > 0, $"{paused} ms paused");
    }
}
