using System.Text;

namespace Flover.Configuration;

/// <summary>Reads documents into unresolved trees; the syntax follows the file extension.</summary>
internal static class HoconLoader
{
    /// <summary>Parses a file: <c>.properties</c> as Java properties, anything else (<c>.conf</c>, <c>.json</c>, no extension) as HOCON.</summary>
    public static ConfigObject ParseFileUnresolved(string path, IncludeSettings? settings = null, int depth = 0)
    {
        ParseContext context = ParseContext.ForFile(path, settings, depth);
        string text = ReadFile(context.Description);
        return Path.GetExtension(path).Equals(".properties", StringComparison.OrdinalIgnoreCase)
            ? PropertiesParser.Parse(text, context.Description)
            : HoconParser.Parse(text, context);
    }

    /// <summary>Parses HOCON text that is not a file.</summary>
    public static ConfigObject ParseTextUnresolved(string text, string description = "string", IncludeSettings? settings = null) =>
        HoconParser.Parse(text, ParseContext.ForText(description, settings));

    private static string ReadFile(string path)
    {
        try
        {
            // UTF-8 as the specification requires; a BOM is skipped (and would be whitespace anyway).
            return File.ReadAllText(path, new UTF8Encoding(false, true));
        }
        catch (FileNotFoundException exception)
        {
            throw new ConfigurationException(null, $"configuration file '{path}' does not exist", exception);
        }
        catch (DirectoryNotFoundException exception)
        {
            throw new ConfigurationException(null, $"configuration file '{path}' does not exist (its folder is missing)", exception);
        }
        catch (UnauthorizedAccessException exception)
        {
            throw new ConfigurationException(null, $"configuration file '{path}' cannot be read: {exception.Message}", exception);
        }
        catch (DecoderFallbackException exception)
        {
            throw new ConfigurationException(null, $"configuration file '{path}' is not valid UTF-8: {exception.Message}", exception);
        }
    }
}
