using System.CommandLine;
using Flover.Configuration;
using Flover.Gpu;

namespace Flover.Host.Cli;

/// <summary>
/// <c>flover config</c>: prints the configuration in force (reference.conf, the application file
/// and <c>--set</c> overrides, resolved and validated) as HOCON or JSON, or one value with <c>--path</c>.
/// </summary>
internal static class ConfigCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("config", "Print the resolved configuration in force (reference.conf < --config FILE < --set), as HOCON or JSON.");
        ConfigOptions configOptions = ConfigOptions.AddTo(command);
        var path = new Option<string?>("--path")
        {
            Description = "Print only the value at this path (e.g. flover.http.port), not wrapped in its parent keys.",
            HelpName = "PATH",
        };
        Option<bool> json = CommonOptions.Json();
        command.Options.Add(path);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            Config config = configOptions.Load(parse);
            string? selected = parse.GetValue(path);
            bool asJson = parse.GetValue(json);
            console.Out.Write(selected is null ? RenderAll(config, asJson) : RenderOne(config, selected, asJson));
            return 0;
        });
        return command;
    }

    private static string RenderAll(Config config, bool asJson) =>
        asJson ? config.ToJson() + "\n" : config.ToString();

    private static string RenderOne(Config config, string path, bool asJson)
    {
        ConfigValue value = config.GetValue(path) ?? throw new FloverException($"no setting at '{path}' (run 'flover config' to see every setting)");
        if (asJson)
        {
            return value.ToJson() + "\n";
        }

        // Scalars print as plain text so that scripts can use them directly ($(flover config --path ...)).
        return value switch
        {
            ConfigObject => config.GetConfig(path).ToString(),
            ConfigScalar scalar => scalar.Text + "\n",
            _ => value + "\n",
        };
    }
}
