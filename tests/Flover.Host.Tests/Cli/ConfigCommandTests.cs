using System.Text.Json;
using Flover.Host.Cli;

namespace Flover.Host.Tests.Cli;

public sealed class ConfigCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("flover-cli-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Config_prints_the_resolved_configuration_as_hocon()
    {
        CliResult result = CliRunner.Run("config");

        Assert.Equal(0, result.ExitCode);
        Assert.Empty(result.Stderr);
        Assert.Contains("        port = 8000\n", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("ask-timeout = \"infinite\"", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Config_json_prints_only_json()
    {
        CliResult result = CliRunner.Run("config", "--json");

        Assert.Equal(0, result.ExitCode);
        using JsonDocument json = JsonDocument.Parse(result.Stdout);
        Assert.Equal(8000, json.RootElement.GetProperty("flover").GetProperty("http").GetProperty("port").GetInt32());
    }

    [Fact]
    public void Path_prints_a_scalar_as_plain_text()
    {
        Assert.Equal("127.0.0.1\n", CliRunner.Run("config", "--path", "flover.http.host").Stdout);
        Assert.Equal("8000\n", CliRunner.Run("config", "--path", "flover.http.port").Stdout);
    }

    [Fact]
    public void Path_prints_an_object_without_its_parent_keys()
    {
        CliResult result = CliRunner.Run("config", "--path", "flover.scheduler.dynamic");

        Assert.Equal("max-batch-size = 8\nmax-queue-delay = \"100ms\"\n", result.Stdout);
    }

    [Fact]
    public void Path_with_json_prints_the_value_as_json()
    {
        Assert.Equal("\"127.0.0.1\"\n", CliRunner.Run("config", "--path", "flover.http.host", "--json").Stdout);
        Assert.Equal("[\"/health\", \"/ready\", \"/metrics\"]\n", CliRunner.Run("config", "--path", "flover.http.unauthenticated-paths", "--json").Stdout);
    }

    [Fact]
    public void Set_overrides_are_applied_in_order()
    {
        CliResult result = CliRunner.Run("config", "--set", "flover.http.port=9000", "--set", "flover.http.port=9001", "--path", "flover.http.port");

        Assert.Equal("9001\n", result.Stdout);
    }

    [Fact]
    public void Config_file_is_layered_between_reference_and_set()
    {
        string file = Write("app.conf", "flover.http { host = 0.0.0.0, port = 7000 }\nextra = ${flover.http.port}");

        CliResult result = CliRunner.Run("config", "--config", file, "--set", "flover.http.port=7001", "--json");

        using JsonDocument json = JsonDocument.Parse(result.Stdout);
        Assert.Equal("0.0.0.0", json.RootElement.GetProperty("flover").GetProperty("http").GetProperty("host").GetString());
        Assert.Equal(7001, json.RootElement.GetProperty("extra").GetInt32());
    }

    [Fact]
    public void Any_hocon_file_can_be_printed()
    {
        string file = Write("other.conf", "service { name = demo, tags = [a, b] }");

        Assert.Equal("[\"a\", \"b\"]\n", CliRunner.Run("config", "--config", file, "--path", "service.tags").Stdout);
    }

    [Fact]
    public void A_syntax_error_exits_non_zero_naming_file_line_and_column()
    {
        string file = Write("bad.conf", "a = 1\nb = [\n");

        CliResult result = CliRunner.Run("config", "--config", file);

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.StartsWith($"error: {file}:3:1: end of input: the list opened at {file}:2:5 has no closing ']'", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public void A_wrong_type_from_set_exits_non_zero()
    {
        CliResult result = CliRunner.Run("config", "--set", "flover.http.port=abc");

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.Contains("setting 'flover.http.port' must be an integer", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_flover_key_exits_non_zero()
    {
        CliResult result = CliRunner.Run("config", "--set", "flover.engine.thread=4");

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.Contains("unknown setting 'flover.engine.thread' (did you mean flover.engine.threads?)", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_path_exits_non_zero()
    {
        CliResult result = CliRunner.Run("config", "--path", "flover.nothing");

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.Equal("error: no setting at 'flover.nothing' (run 'flover config' to see every setting)\n", result.Stderr);
    }

    [Fact]
    public void A_malformed_path_exits_non_zero()
    {
        CliResult result = CliRunner.Run("config", "--path", "a..b");

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.Contains("has an empty element", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_config_file_exits_non_zero()
    {
        CliResult result = CliRunner.Run("config", "--config", Path.Combine(_directory, "none.conf"));

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.Contains("none.conf' does not exist", result.Stderr, StringComparison.Ordinal);
    }
}
