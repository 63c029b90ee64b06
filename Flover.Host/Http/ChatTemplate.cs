using System.Text;

namespace Flover.Host.Http;

/// <summary>
/// The plain-text chat template (GPT-2 has none of its own): each message becomes
/// <c>"{Role}: {content}\n\n"</c> with Role one of System, User, Assistant, and the prompt ends
/// with <c>"Assistant:"</c> for the model to continue. docs/HTTP.md shows an example.
/// </summary>
internal static class ChatTemplate
{
    /// <summary>The roles accepted in <c>messages</c>, with the name the template gives each (developer is OpenAI's newer name for system).</summary>
    public static IReadOnlyDictionary<string, string> Roles { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["system"] = "System",
        ["developer"] = "System",
        ["user"] = "User",
        ["assistant"] = "Assistant",
    };

    /// <summary>Renders <paramref name="messages"/> (role, content) as the prompt text.</summary>
    public static string Render(IEnumerable<(string Role, string Content)> messages)
    {
        var prompt = new StringBuilder();
        foreach ((string role, string content) in messages)
        {
            prompt.Append(Roles[role]).Append(": ").Append(content).Append("\n\n");
        }

        return prompt.Append("Assistant:").ToString();
    }
}
