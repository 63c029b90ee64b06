using System.Diagnostics;
using System.Text.Json;
using Flover.Gpu.Tokenization;
using Flover.Gpu.Tokenization.HuggingFace;
using Xunit.Abstractions;

namespace Flover.Gpu.Tests.Tokenization.HuggingFace;

/// <summary>
/// The measurement behind keeping <see cref="Gpt2Tokenizer"/> for GPT-2 (docs/TOKENIZER.md): GPT-2 as
/// a tokenizer.json through the library against OpenAI's ids (TestData/tokenizer/golden.json), and
/// both tokenizers' encoding speed. Opt-in (it times things): <c>FLOVER_TOKENIZER_BENCH=1 dotnet test
/// tests/Flover.Gpu.Tests -c Release --filter LibraryComparisonTests --logger "console;verbosity=detailed"</c>.
/// </summary>
public sealed class LibraryComparisonTests(ITestOutputHelper output)
{
    [Fact]
    public void Gpt2_through_the_library_against_ours()
    {
        if (Environment.GetEnvironmentVariable("FLOVER_TOKENIZER_BENCH") != "1")
        {
            return;
        }

        using var folder = new TokenizerFolder();
        folder.WriteGpt2Files();
        LlamaStyleFiles.WriteGpt2Style(folder.Path);
        File.Delete(folder.File(Gpt2Tokenizer.VocabFileName));
        HuggingFaceTokenizer library = HuggingFaceTokenizer.FromFolder(folder.Path);
        Gpt2Tokenizer ours = Gpt2Tokenizer.Default;

        using JsonDocument golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "tokenizer", "golden.json")));
        var entries = golden.RootElement.EnumerateArray().Where(e => e.TryGetProperty("text", out _))
            .Select(e => (Text: e.GetProperty("text").GetString()!, Ids: e.GetProperty("ids").EnumerateArray().Select(id => id.GetInt32()).ToArray())).ToList();
        using JsonDocument random = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "tokenizer", "golden-random.json")));
        entries.AddRange(random.RootElement.EnumerateArray().Select(e => (
            Text: new string(e.GetProperty("utf16").EnumerateArray().Select(u => (char)u.GetInt32()).ToArray()),
            Ids: e.GetProperty("ids").EnumerateArray().Select(id => id.GetInt32()).ToArray())));
        foreach ((string text, int[] ids) in entries.Where(e => !library.Encode(e.Text).SequenceEqual(e.Ids)).Take(5))
        {
            output.WriteLine($"library differs from OpenAI on {JsonSerializer.Serialize(text)}: [{string.Join(",", library.Encode(text))}] vs [{string.Join(",", ids)}]");
        }

        output.WriteLine($"ours differs on {entries.Count(e => !ours.Encode(e.Text).SequenceEqual(e.Ids))} of {entries.Count}; library on {entries.Count(e => !library.Encode(e.Text).SequenceEqual(e.Ids))}");
        string text2 = string.Concat(Enumerable.Repeat(string.Join("\n", entries.Take(189).Select(e => e.Text)), 20));
        foreach ((string name, Func<string, int> encode) in new (string, Func<string, int>)[] { ("Gpt2Tokenizer", t => ours.Encode(t).Length), ("Tokenizers.DotNet", t => library.Encode(t).Length) })
        {
            encode(text2);
            var clock = Stopwatch.StartNew();
            const int Passes = 5;
            for (int i = 0; i < Passes; i++)
            {
                encode(text2);
            }

            double seconds = clock.Elapsed.TotalSeconds / Passes;
            output.WriteLine($"{name}: {seconds * 1000:F1} ms for {text2.Length} chars ({text2.Length / seconds / 1e6:F2} M chars/s, warm cache)");
        }
    }
}
