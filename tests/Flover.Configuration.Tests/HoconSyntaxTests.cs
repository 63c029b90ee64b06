namespace Flover.Configuration.Tests;

public sealed class HoconSyntaxTests
{
    [Theory]
    [InlineData("a = 1 // comment\nb = 2")]
    [InlineData("a = 1 # comment\nb = 2")]
    [InlineData("# only\na : 1\n// another\nb : 2")]
    public void Comments_run_to_the_end_of_the_line(string text)
    {
        Assert.Equal("{\"a\":1,\"b\":2}", Hocon.Json(text));
    }

    [Fact]
    public void A_comment_marker_inside_quotes_is_text()
    {
        Assert.Equal("x // y # z", Hocon.Parse("a = \"x // y # z\"").GetString("a"));
    }

    [Fact]
    public void A_slash_alone_is_unquoted_text()
    {
        Assert.Equal("a/b", Hocon.Parse("p = a/b").GetString("p"));
    }

    [Theory]
    [InlineData("a = 1\nb = 2")]
    [InlineData("a = 1, b = 2")]
    [InlineData("a = 1, b = 2,")]
    [InlineData("{ a : 1, b : 2, }")]
    [InlineData("a = 1\n,b = 2")]
    [InlineData("a 1\nb 2")]
    public void Fields_are_separated_by_commas_or_newlines_with_one_trailing_comma_allowed(string text)
    {
        if (text.StartsWith("a 1", StringComparison.Ordinal))
        {
            Assert.Contains("must be followed by ':', '=', '+=' or '{'", Hocon.Error(text), StringComparison.Ordinal);
            return;
        }

        Assert.Equal("{\"a\":1,\"b\":2}", Hocon.Json(text));
    }

    [Theory]
    [InlineData("a = 1,, b = 2", "test:1:7: unexpected ','")]
    [InlineData(", a = 1", "test:1:1: unexpected ','")]
    [InlineData("a = [1,,2]", "test:1:8: unexpected ','")]
    [InlineData("a = [,1]", "test:1:6: unexpected ','")]
    [InlineData("a = [1,2,,]", "test:1:10: unexpected ','")]
    public void Leading_and_doubled_commas_are_errors_at_their_position(string text, string expected)
    {
        Assert.StartsWith(expected, Hocon.Error(text), StringComparison.Ordinal);
    }

    [Fact]
    public void List_elements_are_separated_by_newlines_or_commas()
    {
        Assert.Equal("{\"a\":[1,2,3,4]}", Hocon.Json("a = [\n  1\n  2,\n  3, 4,\n]"));
    }

    [Fact]
    public void Equals_colon_and_an_omitted_separator_before_a_brace_are_the_same()
    {
        Assert.Equal("{\"a\":{\"x\":1},\"b\":{\"x\":1},\"c\":{\"x\":1}}", Hocon.Json("a = { x = 1 }\nb : { x : 1 }\nc { x 1 }".Replace("x 1", "x=1", StringComparison.Ordinal)));
    }

    [Fact]
    public void Root_braces_are_optional_and_an_empty_document_is_an_empty_object()
    {
        Assert.True(Hocon.Parse(string.Empty).IsEmpty);
        Assert.True(Hocon.Parse("  \n # nothing\n").IsEmpty);
        Assert.Equal(1, Hocon.Parse("{ a : 1 }").GetInt("a"));
    }

    [Theory]
    [InlineData("a = { b = 1", "test:1:12: end of input: the object opened at test:1:5 has no closing '}'")]
    [InlineData("a = 1 }", "test:1:7: expected ',' or a newline after a field but found '}'")]
    [InlineData("}", "test:1:1: unbalanced '}'")]
    [InlineData("a = [1, 2", "test:1:10: end of input: the list opened at test:1:5 has no closing ']'")]
    [InlineData("[1, 2]", "test:1:1: a configuration document must be an object, not a list")]
    [InlineData("{ a : 1 } b", "test:1:11: unexpected 'b' after the closing '}' of the root object")]
    [InlineData("a = ", "test:1:5: expected a value but found end of input")]
    [InlineData("a", "test:1:2: key 'a' must be followed by ':', '=', '+=' or '{' but found end of input")]
    public void Structural_errors_name_the_line_and_column(string text, string expected)
    {
        Assert.StartsWith(expected, Hocon.Error(text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a = b$c", "test:1:6: '$' must start a substitution")]
    [InlineData("a = b^c", "test:1:6: reserved character '^'")]
    [InlineData("a = 1+2", "test:1:6: reserved character '+'")]
    [InlineData("a = \"x\ny\"", "test:1:7: a newline is not allowed inside a quoted string")]
    [InlineData("a = \"x\\qy\"", "test:1:7: '\\q' is not a valid escape")]
    [InlineData("a = \"abc", "test:1:5: end of input inside a quoted string")]
    [InlineData("a = \"\"\"abc", "test:1:5: end of input inside a \"\"\" string")]
    [InlineData("a = ${b", "test:1:5: end of input inside a substitution")]
    [InlineData("${a} = 1", "test:1:1: expected a key but found a substitution (substitutions are not allowed in keys)")]
    public void Lexical_errors_name_the_line_and_column(string text, string expected)
    {
        Assert.StartsWith(expected, Hocon.Error(text), StringComparison.Ordinal);
    }

    [Fact]
    public void Errors_on_later_lines_count_lines_from_one()
    {
        Assert.StartsWith("test:3:7: reserved character '^'", Hocon.Error("a = 1\nb = 2\nc = x ^"), StringComparison.Ordinal);
    }

    [Fact]
    public void Quoted_strings_use_json_escapes()
    {
        Assert.Equal("tab\tnl\nq\"bs\\sl/u\u00e9", Hocon.Parse("a = \"tab\\tnl\\nq\\\"bs\\\\sl\\/u\\u00e9\"").GetString("a"));
    }

    [Fact]
    public void Triple_quoted_strings_are_raw_and_multi_line()
    {
        Assert.Equal("line1\n  \\n line2", Hocon.Parse("a = \"\"\"line1\n  \\n line2\"\"\"").GetString("a"));
    }

    [Theory]
    [InlineData("\"\"\"foo\"\"\"\"", "foo\"")]
    [InlineData("\"\"\"\"foo\"\"\"", "\"foo")]
    [InlineData("\"\"\"foo\"\"bar\"\"\"", "foo\"\"bar")]
    public void Extra_quotes_before_the_closing_triple_quote_belong_to_the_string(string literal, string expected)
    {
        Assert.Equal(expected, Hocon.Parse($"a = {literal}").GetString("a"));
    }

    [Theory]
    [InlineData("a = true", ConfigValueType.Boolean)]
    [InlineData("a = null", ConfigValueType.Null)]
    [InlineData("a = 42", ConfigValueType.Number)]
    [InlineData("a = -1.5e3", ConfigValueType.Number)]
    [InlineData("a = truefoo", ConfigValueType.String)]
    [InlineData("a = 10.0bar", ConfigValueType.String)]
    [InlineData("a = \"true\"", ConfigValueType.String)]
    [InlineData("a = 127.0.0.1", ConfigValueType.String)]
    [InlineData("a = .33", ConfigValueType.String)]
    [InlineData("a = on", ConfigValueType.String)]
    public void Value_types_follow_the_first_token_and_concatenations_are_strings(string text, ConfigValueType expected)
    {
        Assert.Equal(expected, Hocon.Parse(text).GetValue("a")!.ValueType);
    }

    [Fact]
    public void Numbers_keep_their_spelling_in_concatenations()
    {
        Assert.Equal("1.50 and 007", Hocon.Parse("a = 1.50 and 007").GetString("a"));
    }

    [Fact]
    public void Ipv4_and_ipv6_literals_are_unquoted_strings()
    {
        Config config = Hocon.Parse("v4 = 192.168.0.1\nv6 = \"::1\"");

        Assert.Equal("192.168.0.1", config.GetString("v4"));
        Assert.Equal("::1", config.GetString("v6"));
    }

    [Fact]
    public void Unicode_space_separators_and_the_bom_are_whitespace_but_only_lf_is_a_newline()
    {
        Config config = Hocon.Parse("\uFEFFa\u00A0=\u20031\r\nb\u2028=\u30002\u000B");

        Assert.Equal(1, config.GetInt("a"));
        Assert.Equal(2, config.GetInt("b"));
    }
}
