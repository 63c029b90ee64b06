namespace Flover.Configuration.Tests;

public sealed class ConfigApiTests
{
    [Fact]
    public void Getters_return_their_default_when_the_path_is_missing()
    {
        Config config = Hocon.Parse("a = 1");

        Assert.Equal("d", config.GetString("x.y", "d"));
        Assert.Equal(7, config.GetInt("x", 7));
        Assert.Equal(8L, config.GetLong("x", 8));
        Assert.Equal(0.5, config.GetDouble("x", 0.5));
        Assert.True(config.GetBoolean("x", true));
        Assert.Equal(TimeSpan.FromSeconds(3), config.GetTimeSpan("x", TimeSpan.FromSeconds(3)));
        Assert.Null(config.GetByteSize("x"));
        Assert.Equal(["z"], config.GetStringList("x", ["z"]));
        Assert.Empty(config.GetStringList("x"));
    }

    [Theory]
    [InlineData("on", true)]
    [InlineData("off", false)]
    [InlineData("yes", true)]
    [InlineData("no", false)]
    [InlineData("true", true)]
    [InlineData("\"false\"", false)]
    public void Booleans_accept_the_akka_words(string written, bool expected)
    {
        Assert.Equal(expected, Hocon.Parse($"b = {written}").GetBoolean("b"));
    }

    [Fact]
    public void A_wrong_type_names_the_path_the_expectation_the_value_and_where_it_was_written()
    {
        Config config = Hocon.Parse("server {\n  port = eighty\n}");

        var error = Assert.Throws<ConfigurationException>(() => config.GetInt("server.port"));

        Assert.Equal("test:2:10: setting 'server.port' must be a 32-bit integer but is string \"eighty\"", error.Message);
    }

    [Fact]
    public void An_integer_getter_rejects_fractions_and_overflow()
    {
        Config config = Hocon.Parse("f = 1.5\nbig = 3000000000");

        Assert.Throws<ConfigurationException>(() => config.GetInt("f"));
        Assert.Throws<ConfigurationException>(() => config.GetInt("big"));
        Assert.Equal(3000000000L, config.GetLong("big"));
    }

    [Fact]
    public void An_object_is_not_a_string()
    {
        var error = Assert.Throws<ConfigurationException>(() => Hocon.Parse("o { a = 1 }").GetString("o"));

        Assert.Contains("setting 'o' must be a string but is an object", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_list_element_of_the_wrong_type_names_its_index()
    {
        var error = Assert.Throws<ConfigurationException>(() => Hocon.Parse("l = [1, x, 3]").GetIntList("l"));

        Assert.Contains("setting 'l[1]' must be one of a list of 32-bit integers but is string \"x\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetConfig_returns_the_sub_tree_and_empty_when_missing()
    {
        Config config = Hocon.Parse("a.b.c = 1");

        Assert.Equal(1, config.GetConfig("a.b").GetInt("c"));
        Assert.True(config.GetConfig("nope").IsEmpty);
        Assert.Throws<ConfigurationException>(() => config.GetConfig("a.b.c"));
    }

    [Fact]
    public void HasPath_is_false_for_missing_and_null_values()
    {
        Config config = Hocon.Parse("a = 1\nn = null\no {}");

        Assert.True(config.HasPath("a"));
        Assert.True(config.HasPath("o"));
        Assert.False(config.HasPath("n"));
        Assert.False(config.HasPath("a.b"));
    }

    [Fact]
    public void WithFallback_merges_objects_and_this_config_wins()
    {
        Config app = Hocon.Parse("akka.loglevel = DEBUG\nakka.actor.x = 1");
        Config reference = Hocon.Parse("akka.loglevel = INFO\nakka.actor.y = 2\nother = 3");

        Config merged = app.WithFallback(reference);

        Assert.Equal("DEBUG", merged.GetString("akka.loglevel"));
        Assert.Equal(1, merged.GetInt("akka.actor.x"));
        Assert.Equal(2, merged.GetInt("akka.actor.y"));
        Assert.Equal(3, merged.GetInt("other"));
    }

    [Fact]
    public void Null_in_the_primary_clears_a_fallback_object()
    {
        Config merged = Hocon.Parse("section = null").WithFallback(Hocon.Parse("section { a = 1 }"));

        Assert.False(merged.HasPath("section.a"));
    }

    [Fact]
    public void Empty_is_empty_and_a_neutral_fallback()
    {
        Config config = Hocon.Parse("a = 1");

        Assert.True(Config.Empty.IsEmpty);
        Assert.Same(config, config.WithFallback(Config.Empty));
        Assert.Same(config, ConfigurationFactory.Empty.WithFallback(config));
    }

    [Fact]
    public void ToString_renders_hocon_that_parses_back_to_the_same_tree()
    {
        Config config = Hocon.Parse("a { \"b.c\" = [1, {x = \"y\\n\"}], d = null, e = true, f = 1.50 }\n\"10\" = x\ninclude-me = 1");

        Config again = Hocon.Parse(config.ToString());

        Assert.Null(ConfigTree.Difference(config.Root, again.Root));
    }

    [Fact]
    public void ToJson_renders_strict_json_that_parses_back()
    {
        Config config = Hocon.Parse("a = 007\nb = [1, x]\nc { d = 1. }");

        string json = config.ToJson();

        Assert.Contains("\"a\": 7", json, StringComparison.Ordinal);
        Assert.Null(ConfigTree.Difference(config.Root, Hocon.Parse(json).Root));
    }

    [Fact]
    public void AsEnumerable_lists_every_leaf_with_its_path()
    {
        Config config = Hocon.Parse("a { b = 1, \"c.d\" = 2 }\nl = [1]");

        Assert.Equal(["a.b", "a.\"c.d\"", "l"], config.AsEnumerable().Select(kv => kv.Key));
    }

    [Fact]
    public void ParseString_resolves_with_environment_variables()
    {
        string name = "FLOVER_TEST_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(name, "from-env");
        try
        {
            Assert.Equal("from-env", ConfigurationFactory.ParseString($"a = ${{{name}}}").GetString("a"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Fact]
    public void ParseFile_of_a_missing_file_names_it()
    {
        var error = Assert.Throws<ConfigurationException>(() => ConfigurationFactory.ParseFile("/no/such/dir/app.conf"));

        Assert.Equal("configuration file '/no/such/dir/app.conf' does not exist (its folder is missing)", error.Message);
    }

    [Fact]
    public void Required_include_that_is_missing_names_what_was_searched()
    {
        string dir = Directory.CreateTempSubdirectory("flover-hocon-").FullName;
        try
        {
            string file = Path.Combine(dir, "app.conf");
            File.WriteAllText(file, "a = 1\ninclude required(\"missing\")\n");

            var error = Assert.Throws<ConfigurationException>(() => ConfigurationFactory.ParseFile(file));

            Assert.StartsWith($"{file}:2:1: required include \"missing\" not found (looked for: {Path.Combine(dir, "missing.properties")}", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Url_includes_other_than_file_urls_are_refused()
    {
        Assert.Contains("only file: URLs are supported", Hocon.Error("include url(\"https://example.com/a.conf\")"), StringComparison.Ordinal);
    }

    [Fact]
    public void File_url_and_required_file_includes_load()
    {
        string dir = Directory.CreateTempSubdirectory("flover-hocon-").FullName;
        try
        {
            string target = Path.Combine(dir, "t.conf");
            File.WriteAllText(target, "x = 1");
            Config config = Hocon.Parse($"a {{ include url(\"{new Uri(target).AbsoluteUri}\") }}\nb {{ include required(file(\"{target}\")) }}");

            Assert.Equal(1, config.GetInt("a.x"));
            Assert.Equal(1, config.GetInt("b.x"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_numerically_keyed_object_reads_as_a_sorted_compacted_list_ignoring_other_keys()
    {
        Config config = Hocon.Parse("o { \"10\" = c, \"2\" = b, \"0\" = a, x = ignored }");

        Assert.Equal(["a", "b", "c"], config.GetStringList("o"));
    }

    [Fact]
    public void An_empty_object_is_not_a_list()
    {
        Assert.Throws<ConfigurationException>(() => Hocon.Parse("o {}").GetStringList("o"));
    }

    [Fact]
    public void Comment_lines_directly_above_a_field_are_kept_with_its_origin()
    {
        Config config = Hocon.Parse("s { # about s\n  # first line\n  // second line\n  a = 1 # trailing\n\n  # detached\n\n  b = 2\n}");

        Assert.Equal(["first line", "second line"], config.GetValue("s.a")!.Origin.Comments);
        Assert.Empty(config.GetValue("s.b")!.Origin.Comments);
    }
}
