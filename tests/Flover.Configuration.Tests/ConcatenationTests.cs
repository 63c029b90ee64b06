namespace Flover.Configuration.Tests;

public sealed class ConcatenationTests
{
    [Fact]
    public void Simple_values_concatenate_into_a_string_keeping_inner_whitespace()
    {
        Assert.Equal("foo   bar 42 true", Hocon.Parse("a = foo   bar 42 true   ").GetString("a"));
    }

    [Fact]
    public void Substitutions_and_quoted_text_concatenate()
    {
        Assert.Equal("x is 1!", Hocon.Parse("v = 1\na = x is ${v}\"!\"").GetString("a"));
    }

    [Fact]
    public void Lists_side_by_side_join()
    {
        Assert.Equal([1, 2, 3, 4], Hocon.Parse("a = [1, 2] [3, 4]").GetIntList("a"));
    }

    [Fact]
    public void Substituted_lists_join_with_literal_lists()
    {
        Assert.Equal([1, 2, 3], Hocon.Parse("x = [1, 2]\na = ${x} [3]").GetIntList("a"));
    }

    [Fact]
    public void Objects_side_by_side_merge_with_the_later_winning()
    {
        Config config = Hocon.Parse("base { a = 1, b = 1 }\nc = ${base} { b = 2 }");

        Assert.Equal(1, config.GetInt("c.a"));
        Assert.Equal(2, config.GetInt("c.b"));
    }

    [Fact]
    public void A_list_of_space_separated_values_is_one_string_element()
    {
        Assert.Equal(["1 2 3 4"], Hocon.Parse("a = [1 2 3 4]").GetStringList("a"));
    }

    [Fact]
    public void Mixing_an_object_with_a_string_is_an_error_naming_both()
    {
        Assert.Contains("cannot concatenate an object with string \"x\"", Hocon.Error("o { a = 1 }\nb = ${o} x"), StringComparison.Ordinal);
    }

    [Fact]
    public void Quoted_whitespace_between_objects_is_an_error()
    {
        Assert.Contains("cannot concatenate", Hocon.Error("o { a = 1 }\nb = ${o}\" \"${o}"), StringComparison.Ordinal);
    }

    [Fact]
    public void Concatenation_never_spans_a_newline()
    {
        Config config = Hocon.Parse("a = [\n  x\n  y\n]");

        Assert.Equal(["x", "y"], config.GetStringList("a"));
    }

    [Fact]
    public void Keys_concatenate_keeping_inner_whitespace()
    {
        Assert.Equal(42, Hocon.Parse("a b c : 42").GetInt("\"a b c\""));
    }

    [Fact]
    public void Numbers_in_keys_split_at_their_dots()
    {
        Config config = Hocon.Parse("10.0foo : 1\n1.2.3 : 2\ntrue : 3");

        Assert.Equal(1, config.GetInt("\"10\".\"0foo\""));
        Assert.Equal(2, config.GetInt("\"1\".\"2\".\"3\""));
        Assert.Equal(3, config.GetInt("\"true\""));
    }

    [Fact]
    public void Duplicate_objects_merge_but_a_non_object_in_between_resets()
    {
        Config config = Hocon.Parse("foo : { a : 42 }\nfoo : null\nfoo : { b : 43 }\nbar : { a : 1 }\nbar : { b : 2 }");

        Assert.False(config.HasPath("foo.a"));
        Assert.Equal(43, config.GetInt("foo.b"));
        Assert.Equal(1, config.GetInt("bar.a"));
        Assert.Equal(2, config.GetInt("bar.b"));
    }

    [Theory]
    [InlineData("a..b = 1")]
    [InlineData(".a = 1")]
    [InlineData("a. = 1")]
    public void Empty_key_elements_must_be_quoted(string text)
    {
        Assert.Contains("has an empty element", Hocon.Error(text), StringComparison.Ordinal);
    }

    [Fact]
    public void A_quoted_empty_key_element_is_allowed()
    {
        Assert.Equal(1, Hocon.Parse("a.\"\".b = 1").GetInt("a.\"\".b"));
    }

    [Fact]
    public void Assembly_qualified_type_names_work_as_quoted_keys()
    {
        Assert.Equal("akka-misc", Hocon.Parse("bindings { \"Akka.Actor.Identify, Akka\" = akka-misc }").GetString("bindings.\"Akka.Actor.Identify, Akka\""));
    }

    [Fact]
    public void List_elements_may_have_mixed_types()
    {
        IList<ConfigValue> items = Hocon.Parse("a = [1, \"x\", { b = 1 }, [2], null, true]").GetValueList("a");

        Assert.Equal(
            [ConfigValueType.Number, ConfigValueType.String, ConfigValueType.Object, ConfigValueType.List, ConfigValueType.Null, ConfigValueType.Boolean],
            items.Select(i => i.ValueType));
    }
}
