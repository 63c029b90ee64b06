namespace Flover.Configuration.Tests;

public sealed class FloverConfigurationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("flover-config-").FullName;
    private readonly Dictionary<string, string> _environment = [];

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private ConfigurationSources Sources(string? configFile = null, params string[] overrides) => new()
    {
        ConfigFile = configFile,
        Overrides = overrides,
        WorkingDirectory = _directory,
        Environment = name => _environment.GetValueOrDefault(name),
    };

    private string Write(string name, string text)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Reference_alone_gives_the_documented_defaults()
    {
        Config config = FloverConfiguration.Load(Sources());

        Assert.Equal("127.0.0.1", config.GetString("flover.http.host"));
        Assert.Equal(8000, config.GetInt("flover.http.port"));
        Assert.Equal(0, config.GetInt("flover.engine.threads"));
        Assert.Equal("fused", config.GetString("flover.scheduler.kind"));
        Assert.Equal(8, config.GetInt("flover.scheduler.dynamic.max-batch-size"));
        Assert.Equal(TimeSpan.FromMilliseconds(100), config.GetTimeSpan("flover.scheduler.dynamic.max-queue-delay"));
        Assert.Equal(2, config.GetInt("flover.scheduler.instances.count"));
        Assert.Equal("local", config.GetString("akka.actor.provider"));
        Assert.Equal(Timeout.InfiniteTimeSpan, config.GetTimeSpan("akka.actor.ask-timeout"));
    }

    [Fact]
    public void Typed_settings_read_every_flover_key()
    {
        FloverSettings settings = FloverSettings.From(FloverConfiguration.Load(Sources()));

        Assert.Equal(new EngineSettings(0, "auto", 64, 0, 512, 256, "indexed") { IterationEventsInterval = TimeSpan.FromMilliseconds(250) }, settings.Engine);
        Assert.Equal(new SchedulerSettings("fused", 8, TimeSpan.FromMilliseconds(100), 2), settings.Scheduler);
        Assert.Equal(1048576, settings.Http.MaxBodySize);
        Assert.Equal(TimeSpan.FromMinutes(10), settings.Http.RequestTimeout);
        Assert.Equal(["/health", "/ready", "/metrics"], settings.Http.UnauthenticatedPaths);
        Assert.Equal(new ClusterRoutingSettings(TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(250), 3), settings.Cluster);
        Assert.Equal(ClusterRoutingSettings.Default, settings.Cluster);
    }

    [Fact]
    public void Application_file_overrides_reference_and_set_overrides_both()
    {
        string file = Write("app.conf", "flover.http.port = 9000\nflover.http.host = 0.0.0.0");

        Config config = FloverConfiguration.Load(Sources(file, "flover.http.port=9100"));

        Assert.Equal(9100, config.GetInt("flover.http.port"));
        Assert.Equal("0.0.0.0", config.GetString("flover.http.host"));
    }

    [Fact]
    public void Later_set_arguments_win()
    {
        Assert.Equal(3, FloverConfiguration.Load(Sources(null, "flover.engine.threads=2", "flover.engine.threads=3")).GetInt("flover.engine.threads"));
    }

    [Fact]
    public void Set_values_are_parsed_as_hocon_values()
    {
        Config config = FloverConfiguration.Load(Sources(null, "flover.http.host=\"my host\"", "flover.http.api-keys=[a, b]", "my.path=${flover.http.port}"));

        Assert.Equal("my host", config.GetString("flover.http.host"));
        Assert.Equal(["a", "b"], config.GetStringList("flover.http.api-keys"));
        Assert.Equal(8000, config.GetInt("my.path"));
    }

    [Fact]
    public void An_unquoted_value_with_spaces_from_the_shell_is_one_string()
    {
        Assert.Equal("x y", FloverConfiguration.Load(Sources(null, "flover.http.host=x y")).GetString("flover.http.host"));
    }

    [Fact]
    public void Application_conf_in_the_working_directory_is_used_when_no_file_is_given()
    {
        Write("application.conf", "flover.engine.kv-slots = 8");

        Assert.Equal(8, FloverConfiguration.Load(Sources()).GetInt("flover.engine.kv-slots"));
    }

    [Fact]
    public void Flover_config_variable_is_the_last_resort()
    {
        string file = Write("elsewhere.conf", "flover.engine.kv-slots = 9");
        _environment[ConfigurationSources.ConfigFileVariable] = file;

        Assert.Equal(9, FloverConfiguration.Load(Sources()).GetInt("flover.engine.kv-slots"));
        Write("application.conf", "flover.engine.kv-slots = 8");
        Assert.Equal(8, FloverConfiguration.Load(Sources()).GetInt("flover.engine.kv-slots"));
    }

    [Fact]
    public void An_application_substitution_sees_reference_values_and_overrides_change_reference_substitutions()
    {
        string file = Write("app.conf", "copy = ${flover.http.port}\nflover.http.port = 1234");

        Assert.Equal(1234, FloverConfiguration.Load(Sources(file)).GetInt("copy"));
    }

    [Fact]
    public void A_missing_config_file_is_an_error_naming_it()
    {
        var error = Assert.Throws<ConfigurationException>(() => FloverConfiguration.Load(Sources(Path.Combine(_directory, "nope.conf"))));

        Assert.Contains("nope.conf' does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_syntax_error_names_the_file_line_and_column()
    {
        string file = Write("app.conf", "flover {\n  http.port = [1\n}");

        var error = Assert.Throws<ConfigurationException>(() => FloverConfiguration.Load(Sources(file)));

        Assert.StartsWith($"{file}:3:1:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_flover_key_fails_with_a_suggestion_and_position()
    {
        string file = Write("app.conf", "flover.http {\n  prot = 80\n}");

        var error = Assert.Throws<ConfigurationException>(() => FloverConfiguration.Load(Sources(file)));

        Assert.Equal($"{file}:2:10: unknown setting 'flover.http.prot' (did you mean flover.http.port?)", error.Message);
    }

    [Fact]
    public void An_unknown_flover_section_lists_the_known_keys()
    {
        var error = Assert.Throws<ConfigurationException>(() => FloverConfiguration.Load(Sources(null, "flover.tracing.x=1")));

        Assert.Contains("unknown setting 'flover.tracing' (known keys here: dispatchers, engine, cluster, parallel, scheduler, http)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_keys_outside_flover_are_allowed()
    {
        Assert.Equal(1, FloverConfiguration.Load(Sources(null, "akka.custom-dispatcher.throughput=1", "myapp.x=1")).GetInt("myapp.x"));
    }

    [Fact]
    public void A_wrong_type_fails_at_load_naming_the_default_and_the_position()
    {
        var error = Assert.Throws<ConfigurationException>(() => FloverConfiguration.Load(Sources(null, "flover.http.port=abc")));

        Assert.StartsWith("--set flover.http.port=abc:1:18: setting 'flover.http.port' must be an integer like its default 8000 (reference.conf:", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("but is string \"abc\"", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("akka.actor.ask-timeout=soon", "must be a duration")]
    [InlineData("akka.log-config-on-start=maybe", "must be a boolean")]
    [InlineData("flover.http.max-body-size=huge", "must be a size")]
    [InlineData("flover.http.api-keys=key", "must be a list")]
    [InlineData("flover.engine=5", "must be an object")]
    [InlineData("flover.engine.memory-mode=packed", "must be one of indexed, holes, shuffle but is 'packed'")]
    [InlineData("flover.engine.kv-dtype=f8", "setting 'flover.engine.kv-dtype' must be one of f32, f16, bf16 but is 'f8'")]
    [InlineData("flover.cluster.routing=random", "setting 'flover.cluster.routing' must be one of least-loaded, round-robin but is 'random'")]
    [InlineData("flover.http.port=70000", "must be between 0 and 65535 but is 70000")]
    [InlineData("flover.engine.device=gpu0", "setting 'flover.engine.device' must be cpu, cuda or cuda:N (N a device number) but is 'gpu0'")]
    [InlineData("flover.engine.kv-slots=0", "setting 'flover.engine.kv-slots' must be between 1 and 65536 but is 0")]
    [InlineData("flover.parallel.tensor=0", "setting 'flover.parallel.tensor' must be between 1 and 64 but is 0")]
    [InlineData("flover.scheduler.instances.count=lots", "must be an integer")]
    [InlineData("flover.scheduler.instances.count=0", "setting 'flover.scheduler.instances.count' must be between 1 and 1024 (or per-request) but is 0")]
    [InlineData("flover.http.max-body-size=0", "setting 'flover.http.max-body-size' must be between 1KiB and 1GiB but is 0")]
    [InlineData("flover.engine.kv-slots=100000000", "setting 'flover.engine.kv-slots' must be between 1 and 65536 but is 100000000")]
    [InlineData("flover.http.keep-alive-interval=0s", "setting 'flover.http.keep-alive-interval' must be between 10ms and 1h but is 0s")]
    [InlineData("flover.http.ready-timeout=0s", "setting 'flover.http.ready-timeout' must be between 10ms and 1m but is 0s")]
    [InlineData("flover.engine.step-timeout=0s", "setting 'flover.engine.step-timeout' must be between 10ms and 24h but is 0s")]
    public void Bad_values_fail_at_load(string set, string expected)
    {
        var error = Assert.Throws<ConfigurationException>(() => FloverConfiguration.Load(Sources(null, set)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Every numeric, duration and size setting under flover.* in reference.conf (enumerated from the
    /// file, so a setting added later is covered): a negative value fails at load, one line naming
    /// the key.
    /// </summary>
    public static TheoryData<string, string> NumericSettings()
    {
        var data = new TheoryData<string, string>();
        using var json = System.Text.Json.JsonDocument.Parse(ConfigurationFactory.Default().ToJson());
        void Walk(System.Text.Json.JsonElement element, string path)
        {
            if (element.ValueKind == System.Text.Json.JsonValueKind.Object)
            {
                foreach (System.Text.Json.JsonProperty property in element.EnumerateObject())
                {
                    Walk(property.Value, path.Length == 0 ? property.Name : $"{path}.{property.Name}");
                }
            }
            else if (element.ValueKind == System.Text.Json.JsonValueKind.Number)
            {
                data.Add(path, "-1");
            }
            else if (element.ValueKind == System.Text.Json.JsonValueKind.String && System.Text.RegularExpressions.Regex.IsMatch(element.GetString()!, @"^\d+\s*(ms|s|m|h|d)$"))
            {
                data.Add(path, "-1s");
            }
            else if (element.ValueKind == System.Text.Json.JsonValueKind.String && System.Text.RegularExpressions.Regex.IsMatch(element.GetString()!, @"^\d+\s*(B|KiB|MiB|GiB|kB|MB|GB)$"))
            {
                data.Add(path, "-1");
            }
        }

        Walk(json.RootElement.GetProperty("flover"), "flover");
        return data;
    }

    [Theory]
    [MemberData(nameof(NumericSettings))]
    public void A_negative_value_of_any_numeric_setting_fails_at_load_naming_the_key(string key, string negative)
    {
        var error = Assert.Throws<ConfigurationException>(() => FloverSettings.From(FloverConfiguration.Load(Sources(null, $"{key}={negative}"))));

        Assert.Contains($"'{key}'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Akka_log_dead_letters_accepts_a_number_or_a_switch()
    {
        Assert.False(FloverConfiguration.Load(Sources(null, "akka.log-dead-letters=off")).GetBoolean("akka.log-dead-letters"));
    }

    [Theory]
    [InlineData(null, "cpu")]
    [InlineData("flover.engine.device=CUDA", "cuda")]
    [InlineData("flover.engine.device=\"cuda:1\"", "cuda:1")]
    public void The_device_is_read_in_lower_case(string? set, string expected)
    {
        string[] overrides = set is null ? [] : [set];

        Assert.Equal(expected, FloverSettings.From(FloverConfiguration.Load(Sources(null, overrides))).Engine.Device);
    }

    [Theory]
    [InlineData(null, "f32")]
    [InlineData("flover.engine.kv-dtype=f16", "f16")]
    [InlineData("flover.engine.kv-dtype=bf16", "bf16")]
    public void The_kv_dtype_defaults_to_f32_and_reads_f16_and_bf16(string? set, string expected)
    {
        string[] overrides = set is null ? [] : [set];

        Assert.Equal(expected, FloverSettings.From(FloverConfiguration.Load(Sources(null, overrides))).Engine.KvDType);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("flover.engine.batch-invariant=off", false)]
    [InlineData("flover.engine.batch-invariant=on", true)]
    [InlineData("flover.engine.batch-invariant=false", false)]
    public void Batch_invariance_defaults_to_on_and_reads_off(string? set, bool expected)
    {
        string[] overrides = set is null ? [] : [set];

        Assert.Equal(expected, FloverSettings.From(FloverConfiguration.Load(Sources(null, overrides))).Engine.BatchInvariant);
    }

    [Fact]
    public void A_bad_batch_invariant_value_is_one_line_naming_the_setting_and_the_allowed_values()
    {
        var error = Assert.Throws<ConfigurationException>(() => FloverConfiguration.Load(Sources(null, "flover.engine.batch-invariant=fast")));

        // Exact but for the reference.conf position of the default, which moves as settings are added.
        Assert.StartsWith("--set flover.engine.batch-invariant=fast:1:31: setting 'flover.engine.batch-invariant' must be a boolean (on/off, true/false, yes/no) like its default \"on\" (reference.conf:", error.Message, StringComparison.Ordinal);
        Assert.EndsWith(") but is string \"fast\"", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_bad_kv_dtype_is_one_line_naming_the_setting_and_the_words()
    {
        var error = Assert.Throws<ConfigurationException>(() => FloverSettings.From(FloverConfiguration.Load(Sources(null, "flover.engine.kv-dtype=auto"))));

        Assert.Contains("setting 'flover.engine.kv-dtype' must be one of f32, f16, bf16 but is 'auto'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void An_unquoted_cuda_ordinal_is_a_hocon_error_at_its_colon()
    {
        // HOCON reads ':' as a separator, so cuda:N must be quoted in a file or --set (--device needs no quotes).
        var error = Assert.Throws<ConfigurationException>(() => FloverConfiguration.Load(Sources(null, "flover.engine.device=cuda:1")));

        Assert.Contains("unexpected ':'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Per_request_instances_are_read_as_null()
    {
        Assert.Null(FloverSettings.From(FloverConfiguration.Load(Sources(null, "flover.scheduler.instances.count=per-request"))).Scheduler.InstancesCount);
    }

    [Theory]
    [InlineData("flover.http.port", "--set flover.http.port: expected key=value")]
    [InlineData("a=1 b=2", "unexpected")]
    [InlineData("a=1, b=2", "unexpected ','")]
    [InlineData("=1", "expected a key")]
    public void Malformed_set_arguments_are_errors(string set, string expected)
    {
        var error = Assert.Throws<ConfigurationException>(() => FloverConfiguration.Load(Sources(null, set)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
