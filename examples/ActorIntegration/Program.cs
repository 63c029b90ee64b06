using Akka.Actor;
using ActorIntegration;
using Flover.Actors.Hosting;

// A user's own actor system, with no Flover configuration: FloverEngine.Props adds what it needs.
using ActorSystem system = ActorSystem.Create("users-app", "akka.loglevel = WARNING");
IActorRef engine = system.ActorOf(FloverEngine.Props(system, FloverModel.FromPreset("tiny")), "flover");

Inbox inbox = Inbox.Create(system);
system.ActorOf(StoryWriter.Props(engine, "Once upon a time", maxTokens: 16, inbox.Receiver), "writer");
var story = (StoryWritten)await inbox.ReceiveAsync(TimeSpan.FromMinutes(2));

Console.WriteLine($"story: {story.Text}");
Console.WriteLine($"completed: {story.Finish}, {story.Tokens} tokens");
await system.Terminate();
