namespace Flover.Configuration;

/// <summary>The lexical classes of HOCON.</summary>
internal enum HoconTokenKind
{
    OpenBrace,
    CloseBrace,
    OpenBracket,
    CloseBracket,
    Comma,
    Colon,
    Equals,
    PlusEquals,
    Newline,
    Whitespace,
    Comment,
    QuotedString,
    UnquotedText,
    Number,
    Substitution,
    End,
}

/// <summary>
/// One token with its position. <see cref="Text"/> is the decoded content of a quoted string,
/// the raw text of unquoted text, numbers and whitespace, or the body of a comment. A
/// substitution carries the tokens of its path in <see cref="Inner"/>.
/// </summary>
internal sealed record HoconToken(HoconTokenKind Kind, string Text, int Line, int Column)
{
    public bool IsOptional { get; init; }

    public bool IsTripleQuoted { get; init; }

    public IReadOnlyList<HoconToken> Inner { get; init; } = [];

    public ConfigOrigin Origin(string description) => new(description, Line, Column);

    public string Describe() => Kind switch
    {
        HoconTokenKind.End => "end of input",
        HoconTokenKind.Newline => "newline",
        HoconTokenKind.QuotedString => $"\"{Text}\"",
        HoconTokenKind.Substitution => "a substitution",
        HoconTokenKind.Whitespace => "whitespace",
        _ => $"'{Text}'",
    };
}
