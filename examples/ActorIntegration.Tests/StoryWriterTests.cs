using Akka.Actor;
using Akka.TestKit.Xunit2;
using Flover.Actors.Hosting;
using Flover.Actors.Inference;
using Flover.Gpu.Sampling;
using Flover.Testing;

namespace ActorIntegration.Tests;

/// <summary>The user's actor, tested the Akka.NET way.</summary>
public sealed class StoryWriterTests : TestKit
{
    [Fact]
    public void Against_the_test_double_the_writer_collects_the_scripted_text()
    {
        IActorRef engine = Sys.ActorOf(ScriptedEngine.Props(ScriptedReply.Tokens([" there", " was", " a", " fox"])));

        Sys.ActorOf(StoryWriter.Props(engine, "Once upon a time", 4, TestActor));

        var story = ExpectMsg<StoryWritten>(TimeSpan.FromSeconds(10));
        Assert.Equal((" there was a fox", 4, FinishReason.Length), (story.Text, story.Tokens, story.Finish));
    }

    [Fact]
    public void Against_the_test_double_a_rejection_is_reported()
    {
        IActorRef engine = Sys.ActorOf(ScriptedEngine.Props(ScriptedReply.Reject(RejectionCode.QueueFull, "the waiting queue is full")));

        Sys.ActorOf(StoryWriter.Props(engine, "Once upon a time", 4, TestActor));

        Assert.Equal("(rejected: the waiting queue is full)", ExpectMsg<StoryWritten>(TimeSpan.FromSeconds(10)).Text);
    }

    [Fact]
    public void Against_the_real_engine_on_the_tiny_preset_the_writer_gets_its_tokens()
    {
        IActorRef engine = Sys.ActorOf(FloverEngine.Props(Sys, FloverModel.FromPreset("tiny")));

        Sys.ActorOf(StoryWriter.Props(engine, "Once upon a time", 6, TestActor));

        var story = ExpectMsg<StoryWritten>(TimeSpan.FromSeconds(60));
        Assert.Equal((6, FinishReason.Length), (story.Tokens, story.Finish));
    }
}
