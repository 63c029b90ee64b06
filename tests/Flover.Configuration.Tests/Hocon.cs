namespace Flover.Configuration.Tests;

/// <summary>Parses test snippets against themselves only (no environment).</summary>
internal static class Hocon
{
    public static Config Parse(string text) => new(HoconResolver.Resolve(HoconLoader.ParseTextUnresolved(text, "test"), ResolveOptions.DocumentOnly));

    public static Config ParseWithEnvironment(string text, IReadOnlyDictionary<string, string> environment) =>
        new(HoconResolver.Resolve(HoconLoader.ParseTextUnresolved(text, "test"), new ResolveOptions(true, n => environment.GetValueOrDefault(n))));

    public static string Error(string text) => Assert.Throws<ConfigurationException>(() => Parse(text)).Message;

    public static string Json(string text) => Parse(text).ToJson().Replace("\n", string.Empty, StringComparison.Ordinal).Replace(" ", string.Empty, StringComparison.Ordinal);
}
