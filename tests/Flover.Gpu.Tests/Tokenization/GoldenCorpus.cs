using System.Text;
using System.Text.Json;

namespace Flover.Gpu.Tests.Tokenization;

/// <summary>
/// The golden ids of TestData/tokenizer/golden.json: what OpenAI's GPT-2 encoder (npm
/// gpt-3-encoder 1.1.4) gives for each text of corpus.json (see the README beside them).
/// </summary>
internal static class GoldenCorpus
{
    private static readonly Lazy<IReadOnlyList<GoldenEntry>> s_entries = new(() => Load("golden.json"));
    private static readonly Lazy<IReadOnlyList<GoldenEntry>> s_randomEntries = new(() => Load("golden-random.json"));

    /// <summary>The hand-written corpus.</summary>
    public static IReadOnlyList<GoldenEntry> Entries => s_entries.Value;

    /// <summary>1000 seeded random strings (many with lone surrogates).</summary>
    public static IReadOnlyList<GoldenEntry> RandomEntries => s_randomEntries.Value;

    public static string DataDirectory => Path.Combine(AppContext.BaseDirectory, "TestData", "tokenizer");

    private static List<GoldenEntry> Load(string fileName)
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(DataDirectory, fileName)));
        var entries = new List<GoldenEntry>();
        foreach (JsonElement element in document.RootElement.EnumerateArray())
        {
            int[] ids = [.. element.GetProperty("ids").EnumerateArray().Select(id => id.GetInt32())];
            if (element.TryGetProperty("utf16", out JsonElement units))
            {
                // Lone surrogates: System.Text.Json cannot read them as a string, so they are code units.
                string text = new([.. units.EnumerateArray().Select(unit => (char)unit.GetInt32())]);
                string decoded = element.TryGetProperty("decoded", out JsonElement written)
                    ? written.GetString()!
                    : Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));
                entries.Add(new GoldenEntry(text, ids, decoded));
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
