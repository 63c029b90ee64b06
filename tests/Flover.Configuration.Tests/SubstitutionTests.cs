namespace Flover.Configuration.Tests;

public sealed class SubstitutionTests
{
    [Fact]
    public void Substitutions_look_forward_to_the_final_value()
    {
        Assert.Equal(2, Hocon.Parse("a = ${b}\nb = 1\nb = 2").GetInt("a"));
    }

    [Fact]
    public void A_substitution_alone_keeps_its_type()
    {
        Config config = Hocon.Parse("n = 42\no { x = 1 }\nl = [1]\ncopyN = ${n}\ncopyO = ${o}\ncopyL = ${l}");

        Assert.Equal(ConfigValueType.Object, config.GetValue("copyO")!.ValueType);
        Assert.Equal(1, config.GetInt("copyO.x"));
        Assert.Equal(ConfigValueType.Number, config.GetValue("copyN")!.ValueType);
        Assert.Equal([1], config.GetIntList("copyL"));
    }

    [Theory]
    [InlineData("a { b : c }\na.b : ${a.b} \":d\"", "c :d")]
    [InlineData("a { b : c }\na.b : ${a.b}\":d\"", "c:d")]
    [InlineData("a { b : c }\na { b : ${a.b}\":d\" }", "c:d")]
    [InlineData("a.b : c\na : { b : ${a.b}\":d\" }", "c:d")]
    public void A_self_reference_sees_the_value_before_this_definition(string text, string expected)
    {
        Assert.Equal(expected, Hocon.Parse(text).GetString("a.b"));
    }

    [Fact]
    public void A_self_referential_path_grows_a_list()
    {
        Assert.Equal(["/bin", "/usr/bin"], Hocon.Parse("path : [ /bin ]\npath : ${path} [ /usr/bin ]").GetStringList("path"));
    }

    [Fact]
    public void A_lone_self_reference_is_undefined_and_reported()
    {
        Assert.Contains("could not resolve substitution ${foo}", Hocon.Error("foo : ${foo}"), StringComparison.Ordinal);
    }

    [Fact]
    public void An_optional_lone_self_reference_creates_no_field()
    {
        Assert.False(Hocon.Parse("foo : ${?foo}").HasPath("foo"));
    }

    [Fact]
    public void A_hidden_substitution_is_never_evaluated()
    {
        Assert.Equal(42, Hocon.Parse("foo : ${does-not-exist}\nfoo : 42").GetInt("foo"));
    }

    [Fact]
    public void A_path_below_the_field_inside_its_redefinition_refers_to_the_older_object()
    {
        Config config = Hocon.Parse("foo : { a : { c : 1 } }\nfoo : ${foo.a}\nfoo : { a : 2 }");

        Assert.Equal(1, config.GetInt("foo.c"));
        Assert.Equal(2, config.GetInt("foo.a"));
    }

    [Fact]
    public void An_object_may_refer_to_its_own_fields_and_sees_later_overrides()
    {
        Config config = Hocon.Parse("bar : { foo : 42, baz : ${bar.foo} }\nbar : { foo : 43 }");

        Assert.Equal(43, config.GetInt("bar.baz"));
    }

    [Fact]
    public void Mutually_referring_objects_resolve()
    {
        Config config = Hocon.Parse("bar : { a : ${foo.d}, b : 1 }\nbar.b = 3\nfoo : { c : ${bar.b}, d : 2 }\nfoo.d = 4");

        Assert.Equal(4, config.GetInt("bar.a"));
        Assert.Equal(3, config.GetInt("foo.c"));
    }

    [Fact]
    public void An_object_containing_a_reference_to_itself_is_a_cycle()
    {
        Assert.Contains("cycle in substitutions", Hocon.Error("a : { b : ${a} }"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_two_way_cycle_names_every_substitution_with_its_position()
    {
        string message = Hocon.Error("bar : ${foo}\nfoo : ${bar}");

        Assert.Contains("cycle in substitutions: ${foo} (test:1:7) -> ${bar} (test:2:7)", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_three_way_cycle_is_an_error()
    {
        Assert.Contains("cycle in substitutions", Hocon.Error("a : ${b}\nb : ${c}\nc : ${a}"), StringComparison.Ordinal);
    }

    [Fact]
    public void Plus_equals_appends_and_may_be_the_first_use()
    {
        Config config = Hocon.Parse("a += 1\na += 2\nb = [0]\nb += 1\nc { d += x }");

        Assert.Equal([1, 2], config.GetIntList("a"));
        Assert.Equal([0, 1], config.GetIntList("b"));
        Assert.Equal(["x"], config.GetStringList("c.d"));
    }

    [Fact]
    public void Plus_equals_on_a_non_list_is_an_error()
    {
        Assert.Contains("cannot concatenate a list with string \"x\"", Hocon.Error("a = x\na += 1"), StringComparison.Ordinal);
    }

    [Fact]
    public void An_undefined_optional_substitution_in_a_string_is_empty()
    {
        Assert.Equal("foo", Hocon.Parse("a = ${?a}foo").GetString("a"));
    }

    [Fact]
    public void Two_undefined_optionals_create_no_field_but_one_defined_does()
    {
        Assert.False(Hocon.Parse("foo : ${?x}${?y}").HasPath("foo"));
        Assert.Equal("1", Hocon.Parse("x = 1\nfoo : ${?x}${?y}").GetString("foo"));
    }

    [Fact]
    public void An_undefined_required_substitution_names_itself_and_its_position()
    {
        Assert.StartsWith("test:2:5: could not resolve substitution ${missing.path}", Hocon.Error("a = 1\nb = ${missing.path}"), StringComparison.Ordinal);
    }

    [Fact]
    public void Environment_variables_are_the_fallback_and_always_strings()
    {
        Config config = Hocon.ParseWithEnvironment("home = ${HOME}\nn = ${N}", new Dictionary<string, string> { ["HOME"] = "/h", ["N"] = "5" });

        Assert.Equal("/h", config.GetString("home"));
        Assert.Equal(ConfigValueType.String, config.GetValue("n")!.ValueType);
        Assert.Equal(5, config.GetInt("n"));
    }

    [Fact]
    public void A_value_in_the_document_wins_over_the_environment_and_an_explicit_null_blocks_it()
    {
        var environment = new Dictionary<string, string> { ["HOME"] = "/env", ["X"] = "env" };

        Config config = Hocon.ParseWithEnvironment("HOME = /doc\nX = null\na = ${HOME}\nb = ${?X}", environment);

        Assert.Equal("/doc", config.GetString("a"));
        Assert.Null(config.GetString("b"));
    }

    [Fact]
    public void Substitutions_are_not_expanded_inside_quotes()
    {
        Assert.Equal("${a}", Hocon.Parse("a = 1\nb = \"${a}\"").GetString("b"));
    }

    [Fact]
    public void Whole_section_copies_keep_later_overrides()
    {
        Config config = Hocon.Parse("tcp { host = h, port = 1 }\nudp = ${tcp}\nudp { port = 2 }");

        Assert.Equal("h", config.GetString("udp.host"));
        Assert.Equal(2, config.GetInt("udp.port"));
        Assert.Equal(1, config.GetInt("tcp.port"));
    }

    [Fact]
    public void A_redefinition_may_extend_the_older_object_and_read_its_fields()
    {
        Config config = Hocon.Parse("a : { b : 1 }\na : ${a} { c : ${a.b} }");

        Assert.Equal(1, config.GetInt("a.b"));
        Assert.Equal(1, config.GetInt("a.c"));
    }

    [Fact]
    public void Repeated_self_references_accumulate_in_order()
    {
        Assert.Equal([1, 2, 3], Hocon.Parse("x = [1]\nx = ${x} [2]\nx = ${x} [3]").GetIntList("x"));
    }

    [Fact]
    public void A_nested_path_key_self_reference_extends_the_nested_object()
    {
        Config config = Hocon.Parse("foo : { bar : { baz : 1 } }\nfoo.bar : ${foo.bar} { qux : 2 }");

        Assert.Equal(1, config.GetInt("foo.bar.baz"));
        Assert.Equal(2, config.GetInt("foo.bar.qux"));
    }

    [Fact]
    public void A_field_redefined_as_its_own_older_value_keeps_it()
    {
        Config config = Hocon.Parse("a = { b = 1 }\na = { b = ${a.b} }\nc = 5\nc = ${c}");

        Assert.Equal(1, config.GetInt("a.b"));
        Assert.Equal(5, config.GetInt("c"));
    }

    [Fact]
    public void A_substitution_through_an_object_that_refers_back_is_a_cycle()
    {
        Assert.Contains("cycle in substitutions", Hocon.Error("foo = ${bar}\nbar = { a = ${foo} }"), StringComparison.Ordinal);
    }

    [Fact]
    public void Substitutions_inside_an_included_file_are_re_rooted_including_self_references()
    {
        string dir = Directory.CreateTempSubdirectory("flover-hocon-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "inc.conf"), "list = [1]\nlist += 2\ncopy = ${list}");
            File.WriteAllText(Path.Combine(dir, "main.conf"), "list = [0]\nsub { include \"inc.conf\" }");

            Config config = new(HoconResolver.Resolve(HoconLoader.ParseFileUnresolved(Path.Combine(dir, "main.conf")), ResolveOptions.DocumentOnly));

            Assert.Equal([1, 2], config.GetIntList("sub.list"));
            Assert.Equal([1, 2], config.GetIntList("sub.copy"));
            Assert.Equal([0], config.GetIntList("list"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_very_long_chain_of_substitutions_is_an_error_not_a_stack_overflow()
    {
        string text = string.Concat(Enumerable.Range(0, 5000).Select(i => $"a{i} = ${{a{i + 1}}}\n")) + "a5000 = 1";

        Assert.Contains($"more than {HoconResolver.MaxChain} deep", Hocon.Error(text), StringComparison.Ordinal);
    }

    [Fact]
    public void A_chain_below_the_limit_resolves()
    {
        string text = string.Concat(Enumerable.Range(0, 500).Select(i => $"a{i} = ${{a{i + 1}}}\n")) + "a500 = 1";

        Assert.Equal(1, Hocon.Parse(text).GetInt("a0"));
    }
}
