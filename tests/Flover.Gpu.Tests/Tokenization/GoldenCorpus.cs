using System.Text.Json;

namespace Flover.Gpu.Tests.Tokenization;

/// <summary>
/// The golden ids of TestData/tokenizer/golden.json: what OpenAI's GPT-2 encoder (npm
/// gpt-3-encoder 1.1.4) gives for each text of corpus.json (see the README beside them).
/// </summary>
internal static class GoldenCorpus
{
    private static readonly Lazy<IReadOnlyList<GoldenEntry>> s_entries = new(Load);

    public static IReadOnlyList<GoldenEntry> Entries => s_entries.Value;

    public static string DataDirectory => Path.Combine(AppContext.BaseDirectory, "TestData", "tokenizer");

    private static List<GoldenEntry> Load()
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(DataDirectory, "golden.json")));
        var entries = new List<GoldenEntry>();
        foreach (JsonElement element in document.RootElement.EnumerateArray())
        {
            int[] ids = [.. element.GetProperty("ids").EnumerateArray().Select(id => id.GetInt32())];
            if (element.TryGetProperty("utf16", out JsonElement units))
            {
                // Lone surrogates: System.Text.Json cannot read them as a string, so they are code units.
                string text = new([.. units.EnumerateArray().Select(unit => (char)unit.GetInt32())]);
                entries.Add(new GoldenEntry(text, ids, element.GetProperty("decoded").GetString()!));
            }
            else
            {
                string text = element.GetProperty("text").GetString()!;
                entries.Add(new GoldenEntry(text, ids, text));
            }
        }

        return entries;
    }
}

/// <summary>One corpus text, its golden ids and the text those ids decode to.</summary>
internal sealed record GoldenEntry(string Text, int[] Ids, string Decoded);
