using Flover.Gpu.Templates;

namespace Flover.Gpu.Tests.Templates;

/// <summary>Errors: templates the interpreter cannot handle fail at parse time with one line naming the line.</summary>
public sealed class JinjaTemplateTests
{
    [Theory]
    [InlineData("{% if x %}a", "line 1: the template ends before {% endif %}")]
    [InlineData("a\n{% macro m() %}x{% endmacro %}", "line 2: the tag 'macro' is not supported")]
    [InlineData("{{ 'open }}", "a string is not closed")]
    [InlineData("{{ a + }}", "line 1: expected a value, found '}}'")]
    [InlineData("{% endfor %}", "'endfor' without its opening tag")]
    [InlineData("x\ny\n{{ a $ b }}", "line 3: unexpected character '$'")]
    public void Templates_the_interpreter_cannot_handle_fail_at_parse_time_naming_the_line(string source, string expected)
    {
        var error = Assert.Throws<JinjaException>(() => JinjaTemplate.Parse(source));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Raise_exception_carries_the_template_message_and_other_failures_name_the_line()
    {
        var raised = Assert.Throws<JinjaRaisedException>(() => JinjaTemplate.Parse("{{ raise_exception('no ' ~ who) }}").Render(new Dictionary<string, object?> { ["who"] = "tools" }));
        Assert.Equal("no tools", raised.Message);

        var failed = Assert.Throws<JinjaException>(() => JinjaTemplate.Parse("\n{{ x - 'a' }}").Render(new Dictionary<string, object?> { ["x"] = 1 }));
        Assert.StartsWith("line 2:", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Variables_from_dotnet_values_render_like_their_json()
    {
        JinjaTemplate template = JinjaTemplate.Parse("{{ n }} {{ f }} {{ b }} {{ items|tojson }} {{ missing }}|");
        string text = template.Render(new Dictionary<string, object?>
        {
            ["n"] = 3,
            ["f"] = 2.0,
            ["b"] = true,
            ["items"] = new List<object?> { "a", 1, null, new Dictionary<string, object?> { ["k"] = "é\n" } },
        });
        Assert.Equal("3 2.0 true [\"a\", 1, null, {\"k\": \"é\\n\"}] |", text);
    }
}
