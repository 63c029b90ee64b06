using Akka.Event;
using Flover.Actors.Hosting;
using Flover.Configuration;

namespace Flover.Actors.Tests.Hosting;

/// <summary>Akka is handed the tree Flover's reader resolved, including what Akka's own parser gets wrong.</summary>
public sealed class AkkaConfigurationTests
{
    [Fact]
    public void Akka_reads_the_resolved_tree_with_flovers_dispatchers_substitutions_and_appends()
    {
        Config config = Load(
            "app.list = [1]",
            "app.list += 2",
            "app.base = { x = 1 }",
            "app.merged = ${app.base} { y = 2 }",
            "app.fallback = kept",
            // An undefined optional substitution leaves the earlier value (Akka's own parser gives null here).
            "app.fallback = ${?FLOVER_TEST_UNSET_VARIABLE}");

        Akka.Configuration.Config akka = AkkaConfiguration.From(config);

        Assert.Equal("PinnedDispatcher", akka.GetString("flover.dispatchers.decode-loop.type"));
        Assert.Equal([1, 2], akka.GetIntList("app.list"));
        Assert.Equal((1, 2), (akka.GetInt("app.merged.x"), akka.GetInt("app.merged.y")));
        Assert.Equal("kept", akka.GetString("app.fallback"));
        Assert.Equal("local", akka.GetString("akka.actor.provider"));
    }

    [Theory]
    [InlineData("DEBUG", LogLevel.DebugLevel)]
    [InlineData("info", LogLevel.InfoLevel)]
    [InlineData("WARNING", LogLevel.WarningLevel)]
    [InlineData("ERROR", LogLevel.ErrorLevel)]
    [InlineData("OFF", LogLevel.ErrorLevel)]
    public void The_log_level_is_read_from_akka_loglevel(string setting, LogLevel expected) =>
        Assert.Equal(expected, AkkaConfiguration.LogLevel(Load($"akka.loglevel = {setting}")));

    [Fact]
    public void An_unknown_log_level_is_one_line_naming_the_key_the_value_and_where_it_was_set()
    {
        var error = Assert.Throws<ConfigurationException>(() => AkkaConfiguration.LogLevel(Load("akka.loglevel = LOUD")));

        Assert.Equal("--set akka.loglevel = LOUD:1:17: setting 'akka.loglevel' must be one of OFF, ERROR, WARNING, INFO, DEBUG but is 'LOUD'", error.Message);
    }

    private static Config Load(params string[] overrides) => FloverConfiguration.Load(new ConfigurationSources
    {
        Overrides = overrides,
        Environment = _ => null,
        WorkingDirectory = AppContext.BaseDirectory,
    });
}
