namespace Flover.Configuration.Tests;

/// <summary>Small documents in the spirit of the reference suite's lists of valid and invalid inputs.</summary>
public sealed class DocumentValidityTests
{
    [Theory]
    [InlineData("{")]
    [InlineData("]")]
    [InlineData(",")]
    [InlineData("{ \"foo\" }")]
    [InlineData("{ \"foo\" : }")]
    [InlineData("{ : 10 }")]
    [InlineData("{ \"foo\" : 10 ,, }")]
    [InlineData("{ \"a\" : [1,2,3] ] }")]
    [InlineData("{ foo : bar : baz }")]
    [InlineData("{ \"foo\" : ${ }")]
    [InlineData("a = \"\\u12\"")]
    [InlineData("{ include \"foo\" : 1 }")]
    [InlineData("include = 1")]
    [InlineData("a = [1 }")]
    [InlineData("a = { b = 1 ]")]
    [InlineData("a = ${?}")]
    [InlineData("a = 10 ? 2")]
    [InlineData("a = @b")]
    [InlineData("a = `b`")]
    [InlineData("a = b*")]
    [InlineData("a = b&c")]
    [InlineData("a = !b")]
    public void Invalid_documents_are_rejected_with_a_position(string text)
    {
        var error = Assert.Throws<ConfigurationException>(() => Hocon.Parse(text));

        Assert.NotNull(error.Origin);
        Assert.StartsWith("test:", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("foo = bar", "{\"foo\":\"bar\"}")]
    [InlineData("{ foo : bar }", "{\"foo\":\"bar\"}")]
    [InlineData("a.b.c = 1", "{\"a\":{\"b\":{\"c\":1}}}")]
    [InlineData("a : { b : ${?x} }", "{\"a\":{}}")]
    [InlineData("a = [ ]", "{\"a\":[]}")]
    [InlineData("a = \"\"\"\"\"\"", "{\"a\":\"\"}")]
    [InlineData("a = -", "{\"a\":\"-\"}")]
    [InlineData("a = foo-bar", "{\"a\":\"foo-bar\"}")]
    [InlineData("\"\" = 1", "{\"\":1}")]
    [InlineData("a = 1e3", "{\"a\":1000}")]
    [InlineData("a = {} {}", "{\"a\":{}}")]
    [InlineData("a = [] []", "{\"a\":[]}")]
    [InlineData("a = http://host:80/x", "ERROR")]
    [InlineData("a = \"http://host:80/x\"", "{\"a\":\"http://host:80/x\"}")]
    [InlineData("a { b { c = 1 } }\na.b.d = 2", "{\"a\":{\"b\":{\"c\":1,\"d\":2}}}")]
    [InlineData("a = [{ b = 1 } { c = 2 }]", "{\"a\":[{\"b\":1,\"c\":2}]}")]
    public void Hocon_only_documents_parse_to_the_expected_json(string text, string json)
    {
        if (json == "ERROR")
        {
            // ':' ends an unquoted value, so URLs must be quoted (as in the reference implementation).
            Assert.Throws<ConfigurationException>(() => Hocon.Parse(text));
            return;
        }

        Assert.Equal(json, Hocon.Json(text));
    }

    [Theory]
    [InlineData('[')]
    [InlineData('{')]
    public void Absurdly_deep_nesting_is_an_error_not_a_stack_overflow(char open)
    {
        string body = open == '[' ? "a = " + new string('[', 100_000) + new string(']', 100_000) : "a = " + string.Concat(Enumerable.Repeat("{ b = ", 100_000)) + "1" + new string('}', 100_000);

        var error = Assert.Throws<ConfigurationException>(() => Hocon.Parse(body));

        Assert.Contains($"nested more than {HoconParser.MaxNesting} deep", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_up_to_the_limit_is_fine()
    {
        string body = "a = " + new string('[', HoconParser.MaxNesting - 1) + "1" + new string(']', HoconParser.MaxNesting - 1);

        Assert.Equal(ConfigValueType.List, Hocon.Parse(body).GetValue("a")!.ValueType);
    }
}
