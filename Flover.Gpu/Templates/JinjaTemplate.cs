namespace Flover.Gpu.Templates;

/// <summary>
/// A parsed Jinja template, as Hugging Face models ship their <c>chat_template</c>: parse once when
/// the model loads (so a template the interpreter cannot handle fails at start-up), render per
/// request. Renders like <c>@huggingface/jinja</c> (and transformers' Jinja environment):
/// <c>trim_blocks</c> and <c>lstrip_blocks</c> on, one trailing newline of the source dropped.
/// Immutable and safe to share between threads.
/// </summary>
/// <remarks>
/// Covers statements <c>if/elif/else</c>, <c>for</c> (with <c>loop.*</c>, an <c>if</c> filter,
/// <c>else</c>, break, continue), <c>set</c> (also <c>ns.attr</c> and the block form), comments
/// and <c>{%- -%}</c> trimming; expressions with Jinja's precedence, slicing, calls, filters
/// (<c>tojson</c>, <c>trim</c>, <c>length</c>, <c>upper</c>, <c>lower</c>, <c>default</c>, <c>join</c>, ...)
/// and tests (<c>defined</c>, <c>none</c>, <c>string</c>, ...); globals <c>raise_exception</c>,
/// <c>namespace</c> and <c>range</c>. Macros, includes and blocks are not supported.
/// </remarks>
public sealed class JinjaTemplate
{
    private readonly List<JinjaNode> _body;

    private JinjaTemplate(List<JinjaNode> body) => _body = body;

    /// <summary>Parses <paramref name="source"/>.</summary>
    /// <exception cref="JinjaException">A syntax error or an unsupported tag; the message names the line.</exception>
    public static JinjaTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new JinjaTemplate(JinjaParser.Parse(source));
    }

    /// <summary>Renders the template.</summary>
    /// <param name="variables">Top-level variables: strings, numbers, booleans, null, lists,
    /// string-keyed dictionaries, or <see cref="System.Text.Json.JsonElement"/> values (as a request's <c>messages</c>).</param>
    /// <exception cref="JinjaRaisedException">The template called <c>raise_exception</c>.</exception>
    /// <exception cref="JinjaException">The template failed on these variables (an operation on the wrong type, ...).</exception>
    public string Render(IReadOnlyDictionary<string, object?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        return JinjaInterpreter.Render(_body, variables.Select(p => KeyValuePair.Create(p.Key, JinjaValues.From(p.Value))));
    }
}
