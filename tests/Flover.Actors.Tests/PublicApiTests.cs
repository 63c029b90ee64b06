using System.Reflection;
using System.Text;

namespace Flover.Actors.Tests;

/// <summary>
/// The packages' public API, pinned: each assembly's public and protected surface is written as
/// sorted lines and compared with api/&lt;assembly&gt;.txt. A change to the API fails this test until
/// the file is regenerated (run the tests with FLOVER_UPDATE_API=1) and the diff is reviewed, so
/// nothing a user compiles against changes unnoticed.
/// </summary>
public sealed class PublicApiTests
{
    public static TheoryData<string> Assemblies => new() { "Flover.Configuration", "Flover.Gpu", "Flover.Actors", "Flover.Testing" };

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void The_public_api_matches_the_reviewed_file(string name)
    {
        string actual = Describe(Assembly.Load(name));
        string file = Path.Combine(Repository(), "api", $"{name}.txt");
        if (Environment.GetEnvironmentVariable("FLOVER_UPDATE_API") == "1")
        {
            File.WriteAllText(file, actual);
        }

        Assert.True(File.Exists(file), $"{file} is missing: run the tests with FLOVER_UPDATE_API=1 to write it.");
        string expected = File.ReadAllText(file).ReplaceLineEndings("\n");
        if (expected != actual)
        {
            var was = expected.Split('\n').ToHashSet();
            var now = actual.Split('\n').ToHashSet();
            string added = string.Join('\n', now.Except(was).Select(line => "+ " + line));
            string removed = string.Join('\n', was.Except(now).Select(line => "- " + line));
            Assert.Fail($"The public API of {name} changed (review, then run the tests with FLOVER_UPDATE_API=1):\n{removed}\n{added}");
        }
    }

    private static string Describe(Assembly assembly)
    {
        var lines = new List<string>();
        foreach (Type type in assembly.GetExportedTypes())
        {
            string typeName = Name(type);
            string bases = string.Join(", ", new[] { type.BaseType }.Where(b => b is not null && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum)).Select(b => Name(b!))
                .Concat(type.GetInterfaces().Select(Name).Order(StringComparer.Ordinal)));
            lines.Add($"{Kind(type)} {typeName}{(bases.Length > 0 ? " : " + bases : string.Empty)}");
            const BindingFlags flags = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            foreach (MemberInfo member in type.GetMembers(flags))
            {
                if (Describe(member) is { } line)
                {
                    lines.Add($"{typeName}::{line}");
                }
            }
        }

        lines.Sort(StringComparer.Ordinal);
        return string.Join('\n', lines) + "\n";
    }

    private static string? Describe(MemberInfo member) => member switch
    {
        ConstructorInfo c when Visible(c) => $"ctor({Parameters(c)})",
        MethodInfo m when Visible(m) && !m.IsSpecialName => $"{(m.IsStatic ? "static " : string.Empty)}{Name(m.ReturnType)} {m.Name}{Generic(m)}({Parameters(m)})",
        PropertyInfo p when Visible(p.GetMethod) || Visible(p.SetMethod) =>
            $"{(p.GetMethod?.IsStatic == true ? "static " : string.Empty)}{Name(p.PropertyType)} {p.Name} {{ {(Visible(p.GetMethod) ? "get; " : string.Empty)}{(Visible(p.SetMethod) ? (IsInit(p.SetMethod!) ? "init; " : "set; ") : string.Empty)}}}",
        FieldInfo f when f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly => f.DeclaringType!.IsEnum
            ? (f.IsSpecialName ? null : $"{f.Name} = {Convert.ToInt64(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture)}")
            : $"{(f.IsLiteral ? "const " : f.IsStatic ? "static " : string.Empty)}{Name(f.FieldType)} {f.Name}",
        EventInfo e when Visible(e.AddMethod) => $"event {Name(e.EventHandlerType!)} {e.Name}",
        _ => null,
    };

    private static bool Visible(MethodBase? method) => method is not null && (method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly);

    private static bool IsInit(MethodInfo setter) =>
        setter.ReturnParameter.GetRequiredCustomModifiers().Any(m => m.FullName == "System.Runtime.CompilerServices.IsExternalInit");

    private static string Parameters(MethodBase method) =>
        string.Join(", ", method.GetParameters().Select(p => $"{(p.IsOut ? "out " : p.ParameterType.IsByRef ? "ref " : string.Empty)}{Name(p.ParameterType)} {p.Name}{(p.HasDefaultValue ? " = " + (p.DefaultValue ?? "null") : string.Empty)}"));

    private static string Generic(MethodInfo method) =>
        method.IsGenericMethodDefinition ? $"<{string.Join(", ", method.GetGenericArguments().Select(a => a.Name))}>" : string.Empty;

    private static string Kind(Type type) =>
        type.IsEnum ? "enum" : type.IsInterface ? "interface" : type.IsValueType ? "struct" : typeof(Delegate).IsAssignableFrom(type) ? "delegate" : type.IsAbstract && type.IsSealed ? "static class" : type.IsSealed ? "sealed class" : type.IsAbstract ? "abstract class" : "class";

    private static string Name(Type type)
    {
        if (type.IsByRef)
        {
            return Name(type.GetElementType()!);
        }

        if (type.IsArray)
        {
            return Name(type.GetElementType()!) + "[]";
        }

        if (Nullable.GetUnderlyingType(type) is { } inner)
        {
            return Name(inner) + "?";
        }

        if (type.IsGenericParameter)
        {
            return type.Name;
        }

        var name = new StringBuilder();
        if (type.IsNested)
        {
            name.Append(Name(type.DeclaringType!)).Append('.');
        }
        else if (type.Namespace is not null)
        {
            name.Append(type.Namespace).Append('.');
        }

        string plain = type.Name;
        int tick = plain.IndexOf('`', StringComparison.Ordinal);
        name.Append(tick < 0 ? plain : plain[..tick]);
        if (type.IsGenericType)
        {
            Type[] arguments = type.GetGenericArguments();
            // Arguments that belong to the declaring type are printed with it.
            int own = type.IsNested ? arguments.Length - type.DeclaringType!.GetGenericArguments().Length : arguments.Length;
            if (own > 0)
            {
                name.Append('<').Append(string.Join(", ", arguments.Skip(arguments.Length - own).Select(Name))).Append('>');
            }
        }

        return name.ToString();
    }

    private static string Repository()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Flover.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository (Flover.sln) is not above the test's directory.");
    }
}
