using System.Globalization;
using System.Text;

namespace Flover.Gpu.Templates;

/// <summary>
/// Renders parsed statements: text, output, if, for (with <c>loop</c>, an <c>if</c> filter, <c>else</c>,
/// break and continue), set (also of a namespace attribute, and the block form). Each loop
/// iteration has its own scope, so a plain <c>set</c> inside a loop does not leak out, as in Jinja.
/// </summary>
internal sealed partial class JinjaInterpreter
{
    /// <summary>How a block ended: normally, or by break or continue inside a loop.</summary>
    private enum Flow
    {
        Normal,
        Break,
        Continue,
    }

    /// <summary>Variables of one scope, falling back to the enclosing scope.</summary>
    private sealed class Scope(Scope? parent)
    {
        private readonly Dictionary<string, object?> _variables = new(StringComparer.Ordinal);

        public object? Lookup(string name)
        {
            for (Scope? scope = this; scope is not null; scope = scope.Parent)
            {
                if (scope._variables.TryGetValue(name, out object? value))
                {
                    return value;
                }
            }

            return JinjaUndefined.Instance;
        }

        public Scope? Parent => parent;

        public void Set(string name, object? value) => _variables[name] = value;
    }

    private readonly StringBuilder _output = new();

    /// <summary>Renders <paramref name="template"/> with <paramref name="variables"/> (already in the value model).</summary>
    public static string Render(List<JinjaNode> template, IEnumerable<KeyValuePair<string, object?>> variables)
    {
        var globals = new Scope(null);
        foreach ((string name, JinjaFunction function) in JinjaBuiltins.Globals)
        {
            globals.Set(name, function);
        }

        var scope = new Scope(globals);
        foreach ((string name, object? value) in variables)
        {
            scope.Set(name, value);
        }

        var interpreter = new JinjaInterpreter();
        interpreter.Run(template, scope);
        return interpreter._output.ToString();
    }

    private Flow Run(List<JinjaNode> body, Scope scope)
    {
        foreach (JinjaNode node in body)
        {
            Flow flow = Flow.Normal;
            switch (node)
            {
                case TextNode text:
                    _output.Append(text.Text);
                    break;
                case OutputNode output:
                    _output.Append(JinjaValues.ToText(Evaluate(output.Expression, scope)));
                    break;
                case IfNode branch:
                    flow = Run(JinjaValues.Truthy(Evaluate(branch.Test, scope)) ? branch.Then : branch.Else, scope);
                    break;
                case ForNode loop:
                    RunFor(loop, scope);
                    break;
                case SetNode set:
                    RunSet(set, scope);
                    break;
                case LoopControlNode control:
                    return control.Break ? Flow.Break : Flow.Continue;
                default:
                    throw new JinjaException($"line {node.Line}: cannot run {node.GetType().Name}.");
            }

            if (flow != Flow.Normal)
            {
                return flow;
            }
        }

        return Flow.Normal;
    }

    private void RunFor(ForNode loop, Scope scope)
    {
        List<object?> items = Iterate(Evaluate(loop.Items, scope), loop.Line);
        if (loop.Filter is not null)
        {
            items = items.Where(item => JinjaValues.Truthy(Evaluate(loop.Filter, Bind(loop, item, new Scope(scope))))).ToList();
        }

        if (items.Count == 0)
        {
            Run(loop.Empty, scope);
            return;
        }

        for (int i = 0; i < items.Count; i++)
        {
            Scope inner = Bind(loop, items[i], new Scope(scope));
            inner.Set("loop", new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["index"] = (long)(i + 1),
                ["index0"] = (long)i,
                ["revindex"] = (long)(items.Count - i),
                ["revindex0"] = (long)(items.Count - i - 1),
                ["first"] = i == 0,
                ["last"] = i == items.Count - 1,
                ["length"] = (long)items.Count,
                ["previtem"] = i > 0 ? items[i - 1] : JinjaUndefined.Instance,
                ["nextitem"] = i < items.Count - 1 ? items[i + 1] : JinjaUndefined.Instance,
            });
            if (Run(loop.Body, inner) == Flow.Break)
            {
                break;
            }
        }
    }

    private static Scope Bind(ForNode loop, object? item, Scope scope)
    {
        if (loop.Targets.Count == 1)
        {
            scope.Set(loop.Targets[0], item);
            return scope;
        }

        if (item is not List<object?> parts || parts.Count != loop.Targets.Count)
        {
            throw new JinjaException($"line {loop.Line}: cannot unpack a {JinjaValues.TypeName(item)} into {loop.Targets.Count} loop variables.");
        }

        for (int i = 0; i < parts.Count; i++)
        {
            scope.Set(loop.Targets[i], parts[i]);
        }

        return scope;
    }

    private void RunSet(SetNode set, Scope scope)
    {
        object? value;
        if (set.Value is not null)
        {
            value = Evaluate(set.Value, scope);
        }
        else
        {
            int start = _output.Length;
            Run(set.Body!, scope);
            value = _output.ToString(start, _output.Length - start);
            _output.Length = start;
        }

        switch (set.Target)
        {
            case NameNode name:
                scope.Set(name.Name, value);
                break;
            case AttributeNode { Target: NameNode owner } attribute when scope.Lookup(owner.Name) is JinjaNamespace ns:
                ns[attribute.Name] = value;
                break;
            default:
                throw new JinjaException($"line {set.Line}: only a variable or a namespace attribute can be set.");
        }
    }

    /// <summary>The items a for loop visits: a list's items, a dictionary's keys, a string's characters.</summary>
    private static List<object?> Iterate(object? value, int line) => value switch
    {
        List<object?> list => list,
        Dictionary<string, object?> map => map.Keys.Cast<object?>().ToList(),
        string s => s.EnumerateRunes().Select(r => (object?)r.ToString()).ToList(),
        JinjaUndefined or null => [],
        _ => throw new JinjaException($"line {line}: cannot loop over a {JinjaValues.TypeName(value)}."),
    };

    private static string Text(object? value) => JinjaValues.ToText(value);

    private static long Integer(object? value, int line) => value switch
    {
        long l => l,
        double d => (long)d,
        bool b => b ? 1 : 0,
        string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l) => l,
        _ => throw new JinjaException($"line {line}: expected an integer, got a {JinjaValues.TypeName(value)}."),
    };
}
