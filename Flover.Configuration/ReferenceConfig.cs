using System.Reflection;

namespace Flover.Configuration;

/// <summary>Flover's defaults: <c>hocon/reference.conf</c>, embedded in this assembly at build time.</summary>
internal static class ReferenceConfig
{
    /// <summary>The manifest name of the embedded file (set by <c>LogicalName</c> in the project file).</summary>
    public const string ResourceName = "Flover.Configuration.reference.conf";

    /// <summary>How the reference file is named in messages.</summary>
    public const string Description = "reference.conf";

    private static readonly Lazy<string> s_text = new(ReadText);

    /// <summary>The text of the embedded reference.conf.</summary>
    public static string Text => s_text.Value;

    /// <summary>Parses the embedded reference.conf (unresolved, so that application layers can override what its substitutions use).</summary>
    public static ConfigObject Load() => HoconLoader.ParseTextUnresolved(Text, Description);

    private static string ReadText()
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from {typeof(ReferenceConfig).Assembly.GetName().Name}: check the EmbeddedResource item in Flover.Configuration.csproj.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
