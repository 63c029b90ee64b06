using Flover.Configuration;

namespace Flover.Host.Http;

/// <summary>What the endpoints share: the served model, the engine's admission point, the HTTP settings and the clock.</summary>
/// <param name="Model">The served model.</param>
/// <param name="Engine">Where requests are admitted.</param>
/// <param name="Settings">flover.http.*.</param>
/// <param name="Clock">Deadlines and keep-alive timers (the system clock outside tests).</param>
internal sealed record ServeContext(ServedModel Model, EngineClient Engine, HttpSettings Settings, TimeProvider Clock);
