using System.Text;
using Flover.Gpu;
using Flover.Gpu.Templates;
using Flover.Gpu.Tokenization;

namespace Flover.Host.Http;

/// <summary>
/// Turns chat messages into prompt ids. A model whose tokenizer_config.json has a Jinja
/// <c>chat_template</c> (LLaMA, TinyLlama, ...) renders it, parsed once when the model loads; a
/// model without one (GPT-2) uses the plain template: each message becomes
/// <c>"{Role}: {content}\n\n"</c> with Role one of System, User, Assistant, and the prompt ends with
/// <c>"Assistant:"</c> for the model to continue. docs/HTTP.md shows both.
/// </summary>
internal sealed class ChatTemplate
{
    private readonly JinjaTemplate? _jinja;
    private readonly string _bosToken;
    private readonly string _eosToken;

    private ChatTemplate(JinjaTemplate? jinja, string bosToken, string eosToken)
    {
        _jinja = jinja;
        _bosToken = bosToken;
        _eosToken = eosToken;
    }

    /// <summary>The plain template, for models without a chat template of their own.</summary>
    public static ChatTemplate Plain { get; } = new(null, string.Empty, string.Empty);

    /// <summary>The roles the plain template accepts, with the name it gives each (developer is OpenAI's newer name for system).</summary>
    public static IReadOnlyDictionary<string, string> Roles { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["system"] = "System",
        ["developer"] = "System",
        ["user"] = "User",
        ["assistant"] = "Assistant",
    };

    /// <summary>Whether this is the model's own Jinja template (which checks roles itself) rather than the plain one.</summary>
    public bool IsModelTemplate => _jinja is not null;

    /// <summary>The template of <paramref name="tokenizer"/>'s model: its Jinja <c>chat_template</c>, parsed now, or the plain one.</summary>
    /// <exception cref="FloverException">The interpreter cannot parse the template; one line naming the file and the template line.</exception>
    public static ChatTemplate For(ITokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (tokenizer.ChatTemplate is not string source)
        {
            return Plain;
        }

        try
        {
            return new ChatTemplate(JinjaTemplate.Parse(source), TokenText(tokenizer, tokenizer.BosTokenId), TokenText(tokenizer, tokenizer.EosTokenId));
        }
        catch (JinjaException e)
        {
            throw new FloverException($"{Path.Combine(tokenizer.Source, "tokenizer_config.json")}: chat_template: {e.Message}", e);
        }
    }

    /// <summary>Renders <paramref name="messages"/> (role, content) and encodes the prompt.</summary>
    /// <exception cref="ApiException">The model's template refused the messages (<c>raise_exception</c>) or failed on them: 400 naming <c>messages</c>.</exception>
    public int[] Encode(IReadOnlyList<(string Role, string Content)> messages, ITokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (_jinja is null)
        {
            return tokenizer.EncodePrompt(Render(messages));
        }

        string prompt;
        try
        {
            prompt = _jinja.Render(new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["messages"] = messages.Select(m => (object?)new Dictionary<string, object?>(StringComparer.Ordinal) { ["role"] = m.Role, ["content"] = m.Content }).ToList(),
                ["bos_token"] = _bosToken,
                ["eos_token"] = _eosToken,
                ["add_generation_prompt"] = true,
            });
        }
        catch (JinjaRaisedException e)
        {
            throw ApiException.Invalid("messages", e.Message);
        }
        catch (JinjaException e)
        {
            throw ApiException.Invalid("messages", $"The model's chat template cannot render these messages: {e.Message}");
        }

        // The template writes BOS and the role markers as text; they must become their special ids.
        return tokenizer.Encode(prompt, allowSpecialTokens: true);
    }

    /// <summary>Renders <paramref name="messages"/> (role, content) with the plain template.</summary>
    public static string Render(IEnumerable<(string Role, string Content)> messages)
    {
        var prompt = new StringBuilder();
        foreach ((string role, string content) in messages)
        {
            prompt.Append(Roles[role]).Append(": ").Append(content).Append("\n\n");
        }

        return prompt.Append("Assistant:").ToString();
    }

    /// <summary>The text of a special token, which templates write as <c>bos_token</c> and <c>eos_token</c>.</summary>
    private static string TokenText(ITokenizer tokenizer, int? id) =>
        id is int value ? tokenizer.SpecialTokens.FirstOrDefault(p => p.Value == value).Key ?? tokenizer.Decode([value]) : string.Empty;
}
