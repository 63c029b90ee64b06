using Flover.Actors.Inference;

namespace Flover.Actors.Tests.Inference;

public sealed class StopSequenceMatcherTests
{
    [Fact]
    public void Text_that_may_start_a_stop_sequence_is_held_back_until_it_cannot()
    {
        var matcher = new StopSequenceMatcher(["END"]);

        Assert.Equal("abc", matcher.Append("abcE"));
        Assert.Equal(string.Empty, matcher.Append("N"));
        Assert.Equal("ENx", matcher.Append("x"));
        Assert.False(matcher.Stopped);
    }

    [Fact]
    public void A_stop_sequence_split_across_deltas_ends_matching_with_the_text_before_it()
    {
        var matcher = new StopSequenceMatcher(["\n\n", "STOP"]);

        Assert.Equal("one", matcher.Append("one\n"));
        Assert.Equal(string.Empty, matcher.Append("\ntwo"));
        Assert.True(matcher.Stopped);
        Assert.Equal(string.Empty, matcher.Append("more"));
        Assert.Equal(string.Empty, matcher.Flush());
    }

    [Fact]
    public void The_earliest_of_several_stop_sequences_wins()
    {
        var matcher = new StopSequenceMatcher(["cd", "b"]);

        Assert.Equal("a", matcher.Append("abcd"));
    }

    [Fact]
    public void Flush_releases_held_text_that_completed_no_stop_sequence()
    {
        var matcher = new StopSequenceMatcher(["xyz"]);

        Assert.Equal("a", matcher.Append("axy"));
        Assert.Equal("xy", matcher.Flush());
    }

    [Fact]
    public void No_stop_sequences_or_empty_ones_pass_everything_through()
    {
        var matcher = new StopSequenceMatcher([string.Empty]);

        Assert.Equal("anything", matcher.Append("anything"));
        Assert.Equal("text", new StopSequenceMatcher(null).Append("text"));
    }
}
