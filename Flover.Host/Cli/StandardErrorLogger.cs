using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace Flover.Host.Cli;

/// <summary>
/// Akka's log events on stderr, for <c>flover node</c>'s own actor system (serve's goes through
/// Microsoft.Extensions.Logging to stderr): stdout carries only the node's one "up" line, as
/// serve's carries its "ready" line. Named in <c>akka.loggers</c> by <see cref="NodeCommand"/>.
/// </summary>
internal sealed class StandardErrorLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    /// <summary>The value for <c>akka.loggers</c>.</summary>
    public const string TypeName = "Flover.Host.Cli.StandardErrorLogger, flover";

    public StandardErrorLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e => Console.Error.WriteLine(e.ToString()));
    }
}
