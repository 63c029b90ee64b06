using System.Diagnostics.Metrics;
using System.Net;
using Akka.Actor;
using Akka.Hosting;
using Flover.Actors.Cluster;
using Flover.Actors.Hosting;
using Flover.Gpu;
using Flover.Host.Http.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Flover.Host.Http;

/// <summary>
/// The one place the HTTP application is built: logging, the actor system (Akka.Hosting, with the
/// engine registered in its ActorRegistry), Kestrel's listener, the graceful drain, the middleware
/// (errors, API keys, refusing requests while draining) and every route. The endpoints' shared
/// state is the <see cref="ServeContext"/> in the application's services.
/// </summary>
internal static class ServeApp
{
    /// <summary>Builds the application from <paramref name="setup"/>; <paramref name="configure"/> may change the builder (tests use an in-process server).</summary>
    /// <param name="setup">The engine and the HTTP settings.</param>
    /// <param name="configure">Changes to the builder (tests).</param>
    /// <param name="listener">A socket already bound and listening (<see cref="Bind"/>): Kestrel serves it instead of binding the settings' address itself.</param>
    public static WebApplication Build(ServeSetup setup, Action<WebApplicationBuilder>? configure = null, System.Net.Sockets.Socket? listener = null)
    {
        ArgumentNullException.ThrowIfNull(setup);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = "flover",
            ContentRootPath = AppContext.BaseDirectory,
        });

        // stdout carries only the ready line; ASP.NET Core's own logs go to stderr, warnings and up.
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // RequestBody enforces flover.http.max-body-size itself, the same in-process and on Kestrel.
            kestrel.Limits.MaxRequestBodySize = null;
            if (listener is not null)
            {
                kestrel.ListenHandle((ulong)listener.Handle);
            }
            else
            {
                Listen(kestrel, setup.Settings.Host, setup.Settings.Port);
            }
        });
        // The drain runs inside the host's stop, which gives up after ShutdownTimeout, and inside
        // a coordinated-shutdown phase, which gives up after its timeout: both leave room for the
        // drain time and for cancelled requests to leave.
        TimeSpan drainLimit = setup.Settings.DrainTimeout + EngineClient.CancelGrace + TimeSpan.FromSeconds(5);
        // The live event stream's fan-out: fed by an actor on the event stream, read by viewers.
        // The engine view's table of recent requests: filled as HTTP requests end (ServeMetrics).
        var recent = new RecentRequests();
        var events = new EngineEventHub(setup.Settings.MaxEventViewers, recent);
        builder.Services.AddSingleton(events);
        builder.Services.AddAkka("flover", akka =>
        {
            akka.AddHocon(AkkaConfiguration.From(setup.Configuration), HoconAddMode.Prepend);
            if (ClusterTls.Setup(setup.Configuration) is { } tls)
            {
                akka.AddSetup(tls);
            }

            akka.AddHocon($"akka.coordinated-shutdown.phases.service-requests-done.timeout = {(long)drainLimit.TotalMilliseconds}ms", HoconAddMode.Prepend);
            // Akka's log events go to Microsoft.Extensions.Logging, so they land where ASP.NET Core's do (stderr).
            akka.ConfigureLoggers(loggers =>
            {
                loggers.LogLevel = AkkaConfiguration.LogLevel(setup.Configuration);
                loggers.ClearLoggers();
                loggers.AddLoggerFactory();
            });
            akka.StartActors(setup.StartEngine);
            akka.StartActors((system, _) => system.ActorOf(EngineEventForwarder.Props(events), "engine-events"));
        });
        // One registry per server (see MetricsEndpoint); the container disposes the endpoint (its
        // listeners) with the application.
        Prometheus.CollectorRegistry registry = Prometheus.Metrics.NewCustomRegistry();
        builder.Services.AddSingleton(services => new EngineClient(services.GetRequiredService<ActorSystem>(), setup.Metrics, registry, recent));
        builder.Services.AddSingleton(services => new MetricsEndpoint(registry, services.GetRequiredService<EngineClient>().Metrics.Meter, services.GetRequiredService<IMeterFactory>()));
        builder.Services.AddSingleton(services => new ServeContext(setup.Model, services.GetRequiredService<EngineClient>(), setup.Settings, setup.Clock, setup.ClusterFrontend));
        builder.Services.AddSingleton<DrainService>();
        builder.Services.AddHostedService(services => services.GetRequiredService<DrainService>());
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = drainLimit + TimeSpan.FromSeconds(5));
        configure?.Invoke(builder);

        WebApplication app = builder.Build();
        ServeContext serve = app.Services.GetRequiredService<ServeContext>();
        MetricsEndpoint metrics = app.Services.GetRequiredService<MetricsEndpoint>();
        if (serve.ClusterFrontend)
        {
            ClusterMetrics.Register(registry, serve.Engine, serve.Settings.ReadyTimeout);
        }

        // The page itself is public; what it fetches follows the key rules.
        var keys = new ApiKeys(serve.Settings.ApiKeys, [.. serve.Settings.UnauthenticatedPaths, .. WebPage.Paths]);
        app.Use(WriteApiErrorsAsync);
        app.Use(keys.CheckAsync);
        app.Use((http, next) => RefuseWhileDraining(http, next, serve.Engine));
        foreach (string path in WebPage.Paths)
        {
            app.MapGet(path, WebPage.ServeAsync);
        }

        app.MapGet("/health", OperationsEndpoints.HealthAsync);
        app.MapGet("/ready", (HttpContext http) => OperationsEndpoints.ReadyAsync(http, serve));
        app.MapGet("/metrics", metrics.WriteAsync);
        app.MapGet("/v1/engine/events", (HttpContext http) => EngineEventsEndpoint.StreamAsync(http, events, serve.Settings.KeepAliveInterval, app.Lifetime.ApplicationStopping));
        app.MapGet("/v1/models", (HttpContext http) => ModelsEndpoint.ListAsync(http, serve));
        app.MapGet("/v1/models/{id}", (HttpContext http, string id) => ModelsEndpoint.GetAsync(http, serve, id));
        app.MapPost("/v1/completions", (HttpContext http) =>
            GenerationEndpoint.HandleAsync(http, serve, CompletionRequestParser.Parse, (model, request, now) => new CompletionShape(model, request, now)));
        app.MapPost("/v1/chat/completions", (HttpContext http) =>
            GenerationEndpoint.HandleAsync(http, serve, ChatRequestParser.Parse, (model, request, now) => new ChatShape(model, request, now)));
        app.MapFallback((HttpContext http) => throw Unrouted(http.Request));
        return app;
    }

    /// <summary>While draining, only health, readiness and metrics are served: everything else is a 503.</summary>
    private static Task RefuseWhileDraining(HttpContext http, RequestDelegate next, EngineClient engine) =>
        engine.Draining && http.Request.Path.Value is not ("/health" or "/ready" or "/metrics") ? throw EngineClient.ShuttingDown() : next(http);

    /// <summary>The fallback's error: 405 for a known path with the wrong method, else 404.</summary>
    private static ApiException Unrouted(HttpRequest request) => request.Path.Value switch
    {
        "/v1/completions" or "/v1/chat/completions" => new(StatusCodes.Status405MethodNotAllowed, $"{request.Path} takes POST, not {request.Method}.", null, "method_not_allowed"),
        "/v1/models" or "/v1/engine/events" => new(StatusCodes.Status405MethodNotAllowed, $"{request.Path} takes GET, not {request.Method}.", null, "method_not_allowed"),
        _ => new(StatusCodes.Status404NotFound, $"Unknown path {request.Method} {request.Path}; see /v1/models, /v1/completions, /v1/chat/completions.", null, "unknown_url"),
    };

    /// <summary>Turns <see cref="ApiException"/> (and any other failure) into OpenAI's error body, unless the response has started.</summary>
    private static async Task WriteApiErrorsAsync(HttpContext http, RequestDelegate next)
    {
        try
        {
            await next(http).ConfigureAwait(false);
        }
        catch (ApiException error) when (!http.Response.HasStarted)
        {
            await ErrorResponses.WriteAsync(http, error).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client left; nobody reads an answer.
        }
        catch (Exception error) when (!http.Response.HasStarted)
        {
            // A bug of ours: the client gets an id to quote, never our exception's text; the log has both.
            string id = Guid.NewGuid().ToString("N")[..12];
            http.RequestServices.GetService<ILoggerFactory>()?.CreateLogger("Flover.Http").LogError(error, "Internal error {ErrorId} on {Method} {Path}", id, http.Request.Method, http.Request.Path);
            var failure = new ApiException(StatusCodes.Status500InternalServerError, $"Internal error (id {id}); the server's log has the details.", null, null, ApiException.ServerError);
            await ErrorResponses.WriteAsync(http, failure).ConfigureAwait(false);
        }
    }

    private static void Listen(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel, string host, int port)
    {
        if (host == "localhost" && port != 0)
        {
            kestrel.ListenLocalhost(port);
        }
        else
        {
            kestrel.Listen(ParseHost(host), port);
        }
    }

    /// <summary>
    /// Binds and listens on <paramref name="host"/>:<paramref name="port"/> now, before anything is
    /// loaded, so a port in use or an address this machine does not have is one line at once (a
    /// check that released the port again would be racy); Kestrel then serves this very socket.
    /// </summary>
    /// <exception cref="FloverException">The address cannot be listened on (in use, not local, not permitted).</exception>
    public static System.Net.Sockets.Socket Bind(string host, int port)
    {
        IPAddress address = ParseHost(host);
        var socket = new System.Net.Sockets.Socket(address.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any))
            {
                // "::" takes IPv4 clients too, as Kestrel's own binding does.
                socket.DualMode = true;
            }

            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(512);
            return socket;
        }
        catch (System.Net.Sockets.SocketException e)
        {
            socket.Dispose();
            string why = e.SocketErrorCode switch
            {
                System.Net.Sockets.SocketError.AddressAlreadyInUse => "address already in use",
                System.Net.Sockets.SocketError.AddressNotAvailable => "this machine has no such address",
                System.Net.Sockets.SocketError.AccessDenied => "permission denied (ports below 1024 need privileges)",
                _ => e.Message,
            };
            throw new FloverException($"cannot listen on {host}:{port}: {why}");
        }
    }

    /// <summary>The URL clients use for <paramref name="listener"/>: its address as bound (the loopback for localhost) and its port.</summary>
    public static string Url(System.Net.Sockets.Socket listener)
    {
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        string address = endpoint.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]" : endpoint.Address.ToString();
        return $"http://{address}:{endpoint.Port}";
    }

    /// <summary>The listen address <c>flover.http.host</c> names (localhost: the IPv4 loopback).</summary>
    /// <exception cref="FloverException">Neither an IP address nor localhost.</exception>
    public static IPAddress ParseHost(string host) =>
        host == "localhost" ? IPAddress.Loopback
        : IPAddress.TryParse(host, out IPAddress? address) ? address
        : throw new FloverException($"flover.http.host = '{host}' is not an IP address (use 127.0.0.1, 0.0.0.0, ::, or localhost).");
}
