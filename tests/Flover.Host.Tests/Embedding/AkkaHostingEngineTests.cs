using Akka.Actor;
using Akka.Hosting;
using Flover.Actors.Hosting;
using Flover.Actors.Inference;
using Flover.Configuration;
using Flover.Gpu.Sampling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Flover.Host.Tests.Embedding;

/// <summary>A user's Akka.Hosting application adds the engine with one call and finds it in the registry.</summary>
[Trait("Category", "Slow")]
public sealed class AkkaHostingEngineTests
{
    [Fact]
    public async Task WithFloverEngine_starts_the_engine_in_the_users_system_and_registers_it()
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Services.AddAkka("users-app", akka => akka
            .AddHocon("akka.loglevel = WARNING", HoconAddMode.Prepend)
            .WithFloverEngine(FloverModel.FromPreset("tiny"), ConfigurationFactory.ParseString("flover.engine.threads = 1")));
        using IHost host = builder.Build();
        await host.StartAsync();
        try
        {
            IActorRef engine = await host.Services.GetRequiredService<ActorRegistry>().GetAsync<InferenceEngine>();
            Assert.Equal("flover", engine.Path.Name);

            object first = await engine.Ask<object>(new Generate([1, 2, 3], new SamplingParameters { Temperature = 0, MaxTokens = 2, IgnoreEos = true }) { CorrelationId = "hosted" }, TimeSpan.FromSeconds(60));

            Assert.Equal((0, "hosted"), (Assert.IsType<Token>(first).Index, ((Token)first).CorrelationId));
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
