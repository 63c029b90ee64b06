using System.Globalization;

namespace Flover.Gpu.Templates;

/// <summary>Expression evaluation: operators, attribute and index access, slicing, calls, filters and tests.</summary>
internal sealed partial class JinjaInterpreter
{
    private object? Evaluate(JinjaNode node, Scope scope)
    {
        switch (node)
        {
            case LiteralNode literal:
                return literal.Value;
            case NameNode name:
                return scope.Lookup(name.Name);
            case ListNode list:
                return list.Items.Select(item => Evaluate(item, scope)).ToList();
            case DictNode dict:
                var map = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach ((JinjaNode key, JinjaNode value) in dict.Items)
                {
                    map[Text(Evaluate(key, scope))] = Evaluate(value, scope);
                }

                return map;
            case AttributeNode attribute:
                return JinjaBuiltins.Member(Evaluate(attribute.Target, scope), attribute.Name, attribute.Line);
            case IndexNode index:
                return Index(Evaluate(index.Target, scope), Evaluate(index.Index, scope), index.Line);
            case SliceNode slice:
                return Slice(slice, scope);
            case CallNode call:
                object? function = Evaluate(call.Function, scope);
                return function is JinjaFunction f
                    ? f(call.Arguments.Select(a => Evaluate(a, scope)).ToList(), Named(call.Named, scope))
                    : throw new JinjaException($"line {call.Line}: a {JinjaValues.TypeName(function)} cannot be called.");
            case FilterNode filter:
                return JinjaBuiltins.Filter(filter.Name, Evaluate(filter.Value, scope), filter.Arguments.Select(a => Evaluate(a, scope)).ToList(), Named(filter.Named, scope), filter.Line);
            case TestNode test:
                bool passed = JinjaBuiltins.Test(test.Name, Evaluate(test.Value, scope), test.Argument is null ? JinjaUndefined.Instance : Evaluate(test.Argument, scope), test.Line);
                return passed != test.Negated;
            case UnaryNode unary:
                object? operand = Evaluate(unary.Operand, scope);
                return unary.Operator switch
                {
                    "not" => !JinjaValues.Truthy(operand),
                    "-" => operand switch
                    {
                        long l => (object)(-l),
                        double d => -d,
                        _ => throw new JinjaException($"line {unary.Line}: cannot negate a {JinjaValues.TypeName(operand)}."),
                    },
                    _ => operand,
                };
            case ConditionalNode conditional:
                return JinjaValues.Truthy(Evaluate(conditional.Test, scope))
                    ? Evaluate(conditional.Then, scope)
                    : conditional.Else is null ? JinjaUndefined.Instance : Evaluate(conditional.Else, scope);
            case BinaryNode { Operator: "and" } and:
                object? left = Evaluate(and.Left, scope);
                return JinjaValues.Truthy(left) ? Evaluate(and.Right, scope) : left;
            case BinaryNode { Operator: "or" } or:
                object? first = Evaluate(or.Left, scope);
                return JinjaValues.Truthy(first) ? first : Evaluate(or.Right, scope);
            case BinaryNode binary:
                return Binary(binary.Operator, Evaluate(binary.Left, scope), Evaluate(binary.Right, scope), binary.Line);
            default:
                throw new JinjaException($"line {node.Line}: cannot evaluate {node.GetType().Name}.");
        }
    }

    private Dictionary<string, object?> Named(List<(string Name, JinjaNode Value)> named, Scope scope) =>
        named.ToDictionary(p => p.Name, p => Evaluate(p.Value, scope), StringComparer.Ordinal);

    private static object? Binary(string op, object? left, object? right, int line)
    {
        switch (op)
        {
            case "==":
                return JinjaValues.AreEqual(left, right);
            case "!=":
                return !JinjaValues.AreEqual(left, right);
            case "in" or "not in":
                bool contains = right switch
                {
                    string s => left is string part ? s.Contains(part, StringComparison.Ordinal) : throw new JinjaException($"line {line}: 'in' a string needs a string, not a {JinjaValues.TypeName(left)}."),
                    List<object?> list => list.Any(item => JinjaValues.AreEqual(item, left)),
                    Dictionary<string, object?> map => left is string key && map.ContainsKey(key),
                    JinjaUndefined => false,
                    _ => throw new JinjaException($"line {line}: cannot test membership in a {JinjaValues.TypeName(right)}."),
                };
                return contains == (op == "in");
            case "~":
                if (left is null || right is null)
                {
                    throw new JinjaException($"line {line}: cannot concatenate none with '~'.");
                }

                return Text(left) + Text(right);
        }

        if (left is JinjaUndefined || right is JinjaUndefined || left is null || right is null)
        {
            throw new JinjaException($"line {line}: cannot apply '{op}' to {JinjaValues.TypeName(left)} and {JinjaValues.TypeName(right)}.");
        }

        if (op == "+" && left is List<object?> a && right is List<object?> b)
        {
            return a.Concat(b).ToList();
        }

        if (op == "+" && (left is string || right is string))
        {
            return Text(left) + Text(right);
        }

        if (op is "<" or ">" or "<=" or ">=" && left is string ls && right is string rs)
        {
            int order = string.CompareOrdinal(ls, rs);
            return op switch { "<" => order < 0, ">" => order > 0, "<=" => order <= 0, _ => order >= 0 };
        }

        if (left is not (long or double or bool) || right is not (long or double or bool))
        {
            throw new JinjaException($"line {line}: cannot apply '{op}' to {JinjaValues.TypeName(left)} and {JinjaValues.TypeName(right)}.");
        }

        if (left is long or bool && right is long or bool && op is "+" or "-" or "*" or "//" or "%" or "<" or ">" or "<=" or ">=")
        {
            long x = Integer(left, line), y = Integer(right, line);
            return op switch
            {
                "+" => x + y,
                "-" => x - y,
                "*" => x * y,
                "//" => y == 0 ? throw new JinjaException($"line {line}: division by zero.") : (long)Math.Floor((double)x / y),
                // Python's sign rule (the result takes the divisor's sign), as Jinja; @huggingface/jinja
                // uses JavaScript's remainder, so the two differ for a negative operand.
                "%" => y == 0 ? throw new JinjaException($"line {line}: division by zero.") : ((x % y) + y) % y,
                "<" => x < y,
                ">" => x > y,
                "<=" => x <= y,
                _ => x >= y,
            };
        }

        double p = Convert.ToDouble(left, CultureInfo.InvariantCulture), q = Convert.ToDouble(right, CultureInfo.InvariantCulture);
        return op switch
        {
            "+" => p + q,
            "-" => p - q,
            "*" => p * q,
            "/" => p / q,
            "//" => Math.Floor(p / q),
            "%" => p - (q * Math.Floor(p / q)),
            "**" => left is long && right is long r && r >= 0 ? (object)(long)Math.Pow(p, q) : Math.Pow(p, q),
            "<" => p < q,
            ">" => p > q,
            "<=" => p <= q,
            ">=" => p >= q,
            _ => throw new JinjaException($"line {line}: unknown operator '{op}'."),
        };
    }

    private static object? Index(object? target, object? index, int line)
    {
        switch (target, index)
        {
            case (List<object?> list, long i):
                long at = i < 0 ? list.Count + i : i;
                return at >= 0 && at < list.Count ? list[(int)at] : JinjaUndefined.Instance;
            case (string s, long i):
                long position = i < 0 ? s.Length + i : i;
                return position >= 0 && position < s.Length ? s[(int)position].ToString() : JinjaUndefined.Instance;
            case (Dictionary<string, object?> map, _):
                return map.TryGetValue(Text(index), out object? value) ? value : JinjaUndefined.Instance;
            case (JinjaUndefined, _):
                throw new JinjaException($"line {line}: cannot index an undefined value.");
            default:
                throw new JinjaException($"line {line}: cannot index a {JinjaValues.TypeName(target)} with a {JinjaValues.TypeName(index)}.");
        }
    }

    /// <summary>Python's slice semantics: negative bounds count from the end, a negative step walks backwards.</summary>
    private object? Slice(SliceNode slice, Scope scope)
    {
        object? target = Evaluate(slice.Target, scope);
        long? Bound(JinjaNode? node) => node is null ? null : Evaluate(node, scope) is var v && v is null or JinjaUndefined ? null : Integer(v, slice.Line);
        long? start = Bound(slice.Start), stop = Bound(slice.Stop), step = Bound(slice.Step) ?? 1;
        int count = target switch
        {
            List<object?> list => list.Count,
            string s => s.Length,
            _ => throw new JinjaException($"line {slice.Line}: cannot slice a {JinjaValues.TypeName(target)}."),
        };
        if (step == 0)
        {
            throw new JinjaException($"line {slice.Line}: slice step cannot be zero.");
        }

        long Clamp(long? value, long whenNull, long low, long high) =>
            value is not long v ? whenNull : Math.Clamp(v < 0 ? v + count : v, low, high);
        bool forward = step > 0;
        long from = Clamp(start, forward ? 0 : count - 1, forward ? 0 : -1, forward ? count : count - 1);
        long to = Clamp(stop, forward ? count : -1, forward ? 0 : -1, forward ? count : count - 1);
        var picked = new List<int>();
        for (long i = from; forward ? i < to : i > to; i += step.Value)
        {
            picked.Add((int)i);
        }

        return target is string text
            ? string.Concat(picked.Select(i => text[i]))
            : picked.Select(i => ((List<object?>)target!)[i]).ToList();
    }
}
