namespace Flover.Configuration.Tests;

/// <summary>The remaining reference resources: layering, BOM, cycles, include quirks, environment, beans.</summary>
public sealed class ReferenceResourceMoreTests
{
    private static Config Layered(string reference, string? application)
    {
        ConfigObject merged = HoconLoader.ParseFileUnresolved(ConformanceData.Resource(reference));
        HoconResolver.Resolve(merged, ResolveOptions.DocumentOnly); // a reference layer must resolve on its own
        if (application is not null)
        {
            merged = ConfigMerge.MergeObjects(merged, HoconLoader.ParseFileUnresolved(ConformanceData.Resource(application)));
        }

        return new Config(HoconResolver.Resolve(merged, ResolveOptions.DocumentOnly));
    }

    [Fact]
    public void Test13_reference_alone_resolves_its_own_substitutions()
    {
        Assert.Equal("b", Layered("test13-reference-with-substitutions.conf", null).GetString("a"));
    }

    [Fact]
    public void Test13_application_layer_overrides_what_reference_substitutions_use()
    {
        Assert.Equal("overridden", Layered("test13-reference-with-substitutions.conf", "test13-application-override-substitutions.conf").GetString("a"));
    }

    [Fact]
    public void Test13_a_reference_layer_that_cannot_resolve_alone_fails_even_if_the_application_would_fix_it()
    {
        var error = Assert.Throws<ConfigurationException>(() => Layered("test13-reference-bad-substitutions.conf", "test13-application-override-substitutions.conf"));

        Assert.Contains("${b}", error.Message, StringComparison.Ordinal);
        Assert.Contains("test13-reference-bad-substitutions.conf:1:5", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void One_key_stand_ins_layer_as_reference_and_application()
    {
        Config config = Layered("a_1.conf", "b_2.conf");

        Assert.Equal(1, config.GetInt("a"));
        Assert.Equal(2, config.GetInt("b"));
    }

    [Fact]
    public void A_byte_order_mark_is_whitespace()
    {
        Assert.Equal(0xEF, File.ReadAllBytes(ConformanceData.Resource("bom.conf"))[0]);
        Assert.Equal("bar", ConformanceData.Parse(ConformanceData.Resource("bom.conf")).GetString("foo"));
    }

    [Fact]
    public void A_file_that_includes_itself_fails_with_include_nested_too_deep()
    {
        var error = Assert.Throws<ConfigurationException>(() => ConformanceData.Parse(ConformanceData.Resource("cycle.conf")));

        Assert.Contains("include nested too deep", error.Message, StringComparison.Ordinal);
        Assert.Contains("cycle.conf:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_include_inside_a_list_is_rejected_with_the_limitation_named()
    {
        var error = Assert.Throws<ConfigurationException>(() => ConformanceData.Parse(ConformanceData.Resource("include-from-list.conf")));

        Assert.Contains("include-from-list.conf:4:9: include is not supported inside an object inside a list", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Heuristic_includes_are_relative_to_the_including_file_but_file_includes_are_not()
    {
        Config config = ConformanceData.Parse(ConformanceData.Resource("file-include.conf"));

        Assert.Equal(41, config.GetInt("base"));
        Assert.Equal(42, config.GetInt("foo"));
        Assert.Equal(43, config.GetInt("bar"));
        Assert.False(config.HasPath("bar-file"));
        Assert.False(config.HasPath("baz"));
    }

    [Fact]
    public void A_heuristic_include_from_text_finds_a_class_path_resource()
    {
        ConfigObject parsed = HoconLoader.ParseTextUnresolved("include \"onclasspath\"", "test", ConformanceData.Classpath);

        Assert.Equal(42, new Config(parsed).GetInt("onclasspath"));
    }

    [Fact]
    public void Environment_variables_fill_optional_substitutions()
    {
        var environment = new Dictionary<string, string> { ["SECRET_A"] = "A", ["SECRET_B"] = "B", ["SECRET_C"] = "C" };

        Config config = ConformanceData.ParseWithEnvironment(ConformanceData.Resource("env-variables.conf"), environment);

        Assert.Equal("A", config.GetString("secret"));
        Assert.Equal(["B", "C"], config.GetStringList("secrets"));
    }

    [Fact]
    public void Without_the_variables_the_earlier_value_stays_and_the_list_loses_its_undefined_elements()
    {
        Config config = ConformanceData.ParseWithEnvironment(ConformanceData.Resource("env-variables.conf"), new Dictionary<string, string>());

        Assert.Equal("a", config.GetString("secret"));
        Assert.Empty(config.GetStringList("secrets"));
    }

    [Fact]
    public void Bean_config_numerically_indexed_object_reads_as_a_list()
    {
        Config config = ConformanceData.Parse(ConformanceData.Resource("beanconfig/beanconfig01.conf"));

        Assert.Equal([32L, 42L, 52L], config.GetLongList("arrays.of-long"));
    }

    [Fact]
    public void Bean_config_mixed_duration_and_size_lists()
    {
        Config config = ConformanceData.Parse(ConformanceData.Resource("beanconfig/beanconfig01.conf"));

        Assert.Equal([TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(2), TimeSpan.FromDays(3)], config.GetTimeSpanList("arrays.ofDuration"));
        Assert.Equal([1024L, 1048576L, 1073741824L], config.GetByteSizeList("arrays.ofMemorySize"));
    }

    [Fact]
    public void Bean_config_kilobytes_are_powers_of_ten_and_k_is_a_power_of_two()
    {
        Config config = ConformanceData.Parse(ConformanceData.Resource("beanconfig/beanconfig01.conf"));

        Assert.Equal(1000, config.GetByteSize("bytes.kilobyte"));
        Assert.Equal(1024, config.GetByteSize("bytes.kibibyte"));
    }

    [Theory]
    [InlineData("validate-reference.conf")]
    [InlineData("validate-invalid.conf")]
    public void Validation_inputs_parse(string file)
    {
        Assert.False(ConformanceData.Parse(ConformanceData.Resource(file)).IsEmpty);
    }

    [Fact]
    public void The_copied_data_keeps_its_exact_bytes()
    {
        byte[] data = File.ReadAllBytes(Path.Combine(ConformanceData.Root, "akkadotnet-akka.net", "src", "contrib", "cluster", "Akka.DistributedData", "reference.conf"));

        Assert.Equal([0xEF, 0xBB, 0xBF], data[..3]); // the BOM survives
        Assert.NotEqual((byte)'\n', data[^1]); // no final newline in the source, and none added
    }
}
