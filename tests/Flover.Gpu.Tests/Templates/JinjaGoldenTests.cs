using System.Text.Json;
using Flover.Gpu.Templates;
using Flover.Gpu.Tests.Reference;
using Xunit.Abstractions;

namespace Flover.Gpu.Tests.Templates;

/// <summary>
/// Chat templates rendered identically to Hugging Face's JavaScript Jinja (<c>@huggingface/jinja</c>):
/// TestData/huggingface/jinja-cases.json uses every construct real templates use (LLaMA 2 and 3,
/// TinyLlama, ChatML with namespace, tools with tojson, slicing, whitespace control, raise_exception).
/// </summary>
public sealed class JinjaGoldenTests(ITestOutputHelper output)
{
    private static readonly string s_cases = Path.Combine(NodeReference.DataFolder, "jinja-cases.json");

    [Fact]
    public void Templates_render_as_the_committed_javascript_answers()
    {
        using JsonDocument golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(NodeReference.DataFolder, "golden-jinja.json")));
        AssertMatches(golden.RootElement);
    }

    [ReferenceFact]
    public async Task Templates_render_as_huggingface_jinja_live() => AssertMatches(await NodeReference.RunAsync("render", s_cases));

    private void AssertMatches(JsonElement answers)
    {
        using JsonDocument cases = JsonDocument.Parse(File.ReadAllText(s_cases));
        Assert.Equal(cases.RootElement.GetArrayLength(), answers.GetArrayLength());
        foreach ((JsonElement testCase, JsonElement answer) in cases.RootElement.EnumerateArray().Zip(answers.EnumerateArray()))
        {
            string name = testCase.GetProperty("name").GetString()!;
            output.WriteLine(name);
            JinjaTemplate template = JinjaTemplate.Parse(testCase.GetProperty("template").GetString()!);
            Dictionary<string, object?> variables = testCase.GetProperty("variables").EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value);
            if (answer.TryGetProperty("error", out JsonElement expectedError))
            {
                var error = Assert.Throws<JinjaRaisedException>(() => template.Render(variables));
                Assert.Equal(expectedError.GetString(), error.Message);
            }
            else
            {
                string rendered = template.Render(variables);
                Assert.True(answer.GetProperty("output").GetString() == rendered, $"{name}:\nreference: {answer.GetProperty("output")}\nFlover:    {JsonSerializer.Serialize(rendered)}");
            }
        }
    }
}
