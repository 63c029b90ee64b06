namespace Flover.Gpu.Templates;

/// <summary>A node of a parsed template: a statement or an expression.</summary>
internal abstract record JinjaNode(int Line);

/// <summary>Literal text, written as it is.</summary>
internal sealed record TextNode(string Text, int Line) : JinjaNode(Line);

/// <summary><c>{{ expression }}</c>.</summary>
internal sealed record OutputNode(JinjaNode Expression, int Line) : JinjaNode(Line);

/// <summary><c>{% if %}</c> with its <c>elif</c> branches folded into <see cref="Else"/>.</summary>
internal sealed record IfNode(JinjaNode Test, List<JinjaNode> Then, List<JinjaNode> Else, int Line) : JinjaNode(Line);

/// <summary><c>{% for a[, b] in items [if test] %}...{% else %}...{% endfor %}</c>.</summary>
internal sealed record ForNode(List<string> Targets, JinjaNode Items, JinjaNode? Filter, List<JinjaNode> Body, List<JinjaNode> Empty, int Line) : JinjaNode(Line);

/// <summary><c>{% set target = value %}</c>, target a name or <c>namespace.attribute</c>; or the block form.</summary>
internal sealed record SetNode(JinjaNode Target, JinjaNode? Value, List<JinjaNode>? Body, int Line) : JinjaNode(Line);

/// <summary><c>{% break %}</c> or <c>{% continue %}</c>.</summary>
internal sealed record LoopControlNode(bool Break, int Line) : JinjaNode(Line);

/// <summary>A literal value: string, integer, float.</summary>
internal sealed record LiteralNode(object? Value, int Line) : JinjaNode(Line);

/// <summary>A variable.</summary>
internal sealed record NameNode(string Name, int Line) : JinjaNode(Line);

/// <summary><c>[a, b]</c> or <c>(a, b)</c>.</summary>
internal sealed record ListNode(List<JinjaNode> Items, int Line) : JinjaNode(Line);

/// <summary><c>{k: v, ...}</c>.</summary>
internal sealed record DictNode(List<(JinjaNode Key, JinjaNode Value)> Items, int Line) : JinjaNode(Line);

/// <summary><c>object.name</c>.</summary>
internal sealed record AttributeNode(JinjaNode Target, string Name, int Line) : JinjaNode(Line);

/// <summary><c>object[index]</c>.</summary>
internal sealed record IndexNode(JinjaNode Target, JinjaNode Index, int Line) : JinjaNode(Line);

/// <summary><c>object[start:stop:step]</c>, any part optional.</summary>
internal sealed record SliceNode(JinjaNode Target, JinjaNode? Start, JinjaNode? Stop, JinjaNode? Step, int Line) : JinjaNode(Line);

/// <summary><c>f(args, name=value)</c>.</summary>
internal sealed record CallNode(JinjaNode Function, List<JinjaNode> Arguments, List<(string Name, JinjaNode Value)> Named, int Line) : JinjaNode(Line);

/// <summary><c>value | name(args)</c>.</summary>
internal sealed record FilterNode(JinjaNode Value, string Name, List<JinjaNode> Arguments, List<(string Name, JinjaNode Value)> Named, int Line) : JinjaNode(Line);

/// <summary><c>value is [not] name [argument]</c>.</summary>
internal sealed record TestNode(JinjaNode Value, string Name, bool Negated, JinjaNode? Argument, int Line) : JinjaNode(Line);

/// <summary>A binary operator, including <c>and</c>, <c>or</c>, <c>in</c>, <c>not in</c>.</summary>
internal sealed record BinaryNode(string Operator, JinjaNode Left, JinjaNode Right, int Line) : JinjaNode(Line);

/// <summary><c>not x</c>, <c>-x</c>, <c>+x</c>.</summary>
internal sealed record UnaryNode(string Operator, JinjaNode Operand, int Line) : JinjaNode(Line);

/// <summary><c>a if test else b</c> (b optional: undefined).</summary>
internal sealed record ConditionalNode(JinjaNode Test, JinjaNode Then, JinjaNode? Else, int Line) : JinjaNode(Line);
