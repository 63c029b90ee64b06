namespace Flover.Configuration.Tests;

/// <summary>The reference implementation's other resource files (README section 2), one behaviour per test.</summary>
public sealed class ReferenceResourceTests
{
    private static readonly Dictionary<string, string> s_noEnvironment = [];

    private static Config LoadBasename(string name, IReadOnlyDictionary<string, string>? environment = null)
    {
        ConfigObject parsed = HoconLoader.ParseTextUnresolved($"include required(classpath(\"{name}\"))", "test", ConformanceData.Classpath);
        return new Config(HoconResolver.Resolve(parsed, new ResolveOptions(true, n => (environment ?? s_noEnvironment).GetValueOrDefault(n))));
    }

    [Fact]
    public void Test01_merges_conf_json_and_properties_by_basename()
    {
        Config config = LoadBasename("test01");

        Assert.Equal(42, config.GetInt("ints.fortyTwoAgain"));
        Assert.Equal(1, config.GetInt("fromJson1"));
        Assert.Equal("abc", config.GetString("fromProps.abc"));
        Assert.Equal(ConfigValueType.String, config.GetValue("fromProps.one")!.ValueType);
        Assert.True(config.GetBoolean("test-lib.fromTestLib"));
    }

    [Fact]
    public void Test01_same_named_resource_later_on_the_class_path_loses()
    {
        Assert.Equal(42, LoadBasename("test01").GetInt("ints.fortyTwo"));
    }

    [Fact]
    public void Test01_point_thirty_three_is_an_unquoted_string_readable_as_a_double()
    {
        Config config = LoadBasename("test01");

        Assert.Equal(ConfigValueType.String, config.GetValue("floats.pointThirtyThree")!.ValueType);
        Assert.Equal(0.33, config.GetDouble("floats.pointThirtyThree"));
    }

    [Fact]
    public void Test01_concatenation_keeps_inner_whitespace_and_drops_quotes()
    {
        Assert.Equal("null bar 42 baz true 3.14 hi", LoadBasename("test01").GetString("strings.concatenated"));
    }

    [Fact]
    public void Test01_strings_convert_to_numbers_and_booleans_on_demand()
    {
        Config config = LoadBasename("test01");

        Assert.Equal(57, config.GetInt("strings.number"));
        Assert.Equal(3.14, config.GetDouble("strings.double"));
        Assert.True(config.GetBoolean("strings.true"));
        Assert.True(config.GetBoolean("strings.yes"));
        Assert.False(config.GetBoolean("strings.false"));
        Assert.False(config.GetBoolean("strings.no"));
    }

    [Fact]
    public void Test01_a_string_that_is_not_a_boolean_is_a_type_error_naming_path_and_position()
    {
        var error = Assert.Throws<ConfigurationException>(() => LoadBasename("test01").GetBoolean("strings.abcd"));

        Assert.Contains("setting 'strings.abcd' must be a boolean", error.Message, StringComparison.Ordinal);
        Assert.Contains("test01.conf:15:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Test01_null_is_a_null_error_not_a_missing_value()
    {
        Config config = LoadBasename("test01");

        var error = Assert.Throws<ConfigurationException>(() => config.GetInt("nulls.null"));
        Assert.Contains("setting 'nulls.null' is null", error.Message, StringComparison.Ordinal);
        Assert.False(config.HasPath("nulls.null"));
        Assert.Null(config.GetString("nulls.null"));
    }

    [Fact]
    public void Test01_lists_of_lists_and_empty_lists()
    {
        Config config = LoadBasename("test01");

        Assert.Empty(config.GetStringList("arrays.empty"));
        Assert.Empty(config.GetIntList("arrays.empty"));
        IList<ConfigValue> ofArray = config.GetValueList("arrays.ofArray");
        Assert.Equal(3, ofArray.Count);
        Assert.All(ofArray, v => Assert.Equal("[\"a\", \"b\", \"c\"]", v.ToString()));
        Assert.Equal(["a", "b"], config.GetStringList("arrays.firstElementNotASubst"));
    }

    [Fact]
    public void Test01_durations_in_every_spelling()
    {
        Config config = LoadBasename("test01");

        Assert.Equal(TimeSpan.FromSeconds(1), config.GetTimeSpan("durations.second"));
        Assert.Equal(TimeSpan.FromSeconds(1), config.GetTimeSpan("durations.secondAsNumber"));
        Assert.Equal(TimeSpan.FromMilliseconds(500), config.GetTimeSpan("durations.halfSecond"));
        Assert.Equal(TimeSpan.FromMilliseconds(1), config.GetTimeSpan("durations.millis"));
        Assert.Equal(TimeSpan.FromMilliseconds(2), config.GetTimeSpan("durations.micros"));
        Assert.Equal([1, 2, 3, 4], config.GetTimeSpanList("durations.secondsList").Select(t => t.TotalSeconds));
    }

    [Fact]
    public void Test01_nineteen_digit_nanoseconds_with_plus_and_minus()
    {
        Config config = LoadBasename("test01");
        long ticks = 4878955355435272204L / 100;

        Assert.Equal(TimeSpan.FromTicks(ticks), config.GetTimeSpan("durations.largeNanos"));
        Assert.Equal(TimeSpan.FromTicks(ticks), config.GetTimeSpan("durations.plusLargeNanos"));
        Assert.Equal(TimeSpan.FromTicks(-ticks), config.GetTimeSpan("durations.minusLargeNanos"));
    }

    [Fact]
    public void Test01_sizes_single_letters_are_powers_of_two()
    {
        Config config = LoadBasename("test01");

        Assert.Equal(1048576, config.GetByteSize("memsizes.meg"));
        Assert.Equal([1048576L, 1048576L, 1048576L], config.GetByteSizeList("memsizes.megsList"));
        Assert.Equal(1048576, config.GetByteSize("memsizes.megAsNumber"));
        Assert.Equal(524288, config.GetByteSize("memsizes.halfMeg"));
    }

    [Fact]
    public void Test01_a_yottabyte_overflows_64_bits_with_a_clear_error()
    {
        var error = Assert.Throws<ConfigurationException>(() => LoadBasename("test01").GetByteSize("memsizes.yottabyte"));

        Assert.Contains("does not fit in 64 bits", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Test01_bad_paths_are_path_errors()
    {
        Config config = LoadBasename("test01");

        foreach (string bad in new[] { ".bad", "bad.", "bad..bad" })
        {
            var error = Assert.Throws<ConfigurationException>(() => config.GetValue(bad));
            Assert.Contains("empty element", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Test01_system_block_uses_the_environment_and_undefined_optionals_vanish()
    {
        Config config = LoadBasename("test01", new Dictionary<string, string> { ["HOME"] = "/home/flover" });

        Assert.Equal("/home/flover", config.GetString("system.home"));
        Assert.False(config.HasPath("system.javaversion")); // no JVM system properties on .NET
        Assert.False(config.HasPath("system.not_here"));
        Assert.Equal("Your Java version is  and your user.home is ", config.GetString("system.concatenated"));
    }

    [Fact]
    public void Test02_odd_paths_empty_keys_quoted_dots_and_dashes()
    {
        Config config = ConformanceData.Parse(ConformanceData.Resource("test02.conf"));

        Assert.Equal(42, config.GetInt("42_a"));
        Assert.Equal(42, config.GetInt("42_b"));
        Assert.Equal(57, config.GetInt("57_a"));
        Assert.Equal(57, config.GetInt("57_b"));
        Assert.Equal(103, config.GetInt("103_a"));
        Assert.Equal(103, config.GetInt("\"a.b.c\""));
        Assert.Equal(259, config.GetInt("a-c"));
        Assert.Equal(260, config.GetInt("a_c"));
        Assert.Equal(261, config.GetInt("\"-\""));
    }

    [Fact]
    public void Test03_include_order_overrides_and_missing_includes_are_ignored()
    {
        Config config = ConformanceData.Parse(ConformanceData.Resource("test03.conf"), ConformanceData.Classpath);

        Assert.Equal(42, config.GetInt("test01.ints.fortyTwo"));
        Assert.Equal(42, config.GetInt("test01.booleans"));
        Assert.Equal(42, config.GetInt("test02.42_a"));
        Assert.Equal(42, config.GetInt("equiv01.ints.fortyTwo"));
        Assert.True(config.GetConfig("nonexistent").IsEmpty);
    }

    [Fact]
    public void Test03_included_substitutions_look_relative_to_the_include_point_then_at_the_root()
    {
        Config config = ConformanceData.Parse(ConformanceData.Resource("test03.conf"), ConformanceData.Classpath);

        Assert.Equal("This is in the included file", config.GetString("a"));
        Assert.Equal("This is in the including file", config.GetString("b"));
        Assert.Equal("This is in the included file", config.GetString("subtree.a"));
        Assert.Equal("This is in the including file", config.GetString("subtree.b"));
    }

    [Fact]
    public void Test04_an_old_akka_reference_config_parses()
    {
        Config config = ConformanceData.Parse(ConformanceData.Resource("test04.conf"));

        Assert.Equal("2.0-SNAPSHOT", config.GetString("akka.version"));
        Assert.Equal(8, config.GetInt("akka.event-handler-dispatcher.max-pool-size"));
        Assert.Equal("round-robin", config.GetString("akka.actor.deployment.\"/app/service-ping\".router"));
        Assert.True(config.GetBoolean("akka.stm.quick-release"));
    }

    [Fact]
    public void Test05_a_play_properties_style_file_with_percent_keys()
    {
        Config config = ConformanceData.Parse(ConformanceData.Resource("test05.conf"));

        Assert.Equal("prod", config.GetString("%prod.application.mode"));
        Assert.Equal("Yet another blog", config.GetString("blog.title"));
    }

    [Fact]
    public void Test06_delayed_merges_of_substitutions_and_objects()
    {
        Config config = ConformanceData.Parse(ConformanceData.Resource("test06.conf"));

        Assert.Equal(2, config.GetInt("x"));
        Assert.Equal(10, config.GetInt("y.foo"));
        Assert.Equal("world", config.GetString("y.hello"));
    }

    [Theory]
    [InlineData("test07.conf")]
    [InlineData("test08.conf")]
    public void Test07_and_08_heuristic_include_falls_back_to_the_class_path(string file)
    {
        Config config = ConformanceData.Parse(ConformanceData.Resource(file), ConformanceData.Classpath);

        Assert.Equal("This is to test classpath searches.", config.GetString("test-lib.description"));
    }

    [Fact]
    public void Test09_a_non_object_hides_older_definitions_in_a_delayed_merge()
    {
        Config config = ConformanceData.Parse(ConformanceData.Resource("test09.conf"));

        Assert.Equal(3, config.GetInt("a.c"));
        Assert.Equal(10, config.GetInt("a.q"));
        Assert.Equal(5, config.GetInt("b"));
        Assert.False(config.HasPath("a.q.r"));
    }

    [Theory]
    [InlineData("foo")]
    [InlineData("bar.nested")]
    public void Test10_substitutions_of_an_included_file_are_re_rooted(string under)
    {
        Config config = ConformanceData.Parse(ConformanceData.Resource("test10.conf")).GetConfig(under);

        Assert.Equal(3, config.GetInt("a.c"));
        Assert.Equal(5, config.GetInt("b"));
        Assert.Equal(10, config.GetInt("a.q"));
    }

    [Theory]
    [InlineData("test11.conf")]
    [InlineData("test12.conf")]
    public void Rendering_targets_parse_and_render_back_to_the_same_tree(string file)
    {
        Config config = ConformanceData.Parse(ConformanceData.Resource(file));

        Config again = ConfigurationFactory.ParseString(config.ToString());

        Assert.Null(ConfigTree.Difference(config.Root, again.Root));
    }
}
