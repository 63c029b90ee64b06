using System.Collections.Concurrent;
using Flover.Actors.Configuration;

namespace Flover.Actors.Dispatch;

/// <summary>
/// Looks dispatchers up by id: the id is a configuration path whose <c>type</c> is
/// <c>Dispatcher</c> (thread pool), <c>PinnedDispatcher</c> or <c>CallingThreadDispatcher</c>
/// (Akka.NET's assembly-qualified configurator names are accepted too), with <c>throughput</c>.
/// </summary>
public sealed class Dispatchers
{
    private readonly Config _config;
    private readonly ConcurrentDictionary<string, Lazy<object>> _dispatchers = new(StringComparer.Ordinal);

    internal Dispatchers(Config config)
    {
        _config = config;
    }

    /// <summary>True when <paramref name="id"/> names a configured dispatcher.</summary>
    public bool HasDispatcher(string id)
    {
        try
        {
            return _config.HasPath(id) && _config.GetValue(id)?.ValueType == ConfigValueType.Object && KindOf(id) is not null;
        }
        catch (ConfigurationException)
        {
            return false;
        }
    }

    internal MessageDispatcher Lookup(string id) =>
        (MessageDispatcher)_dispatchers.GetOrAdd(id, key => new Lazy<object>(() => Create(key))).Value;

    private MessageDispatcher Create(string id)
    {
        if (!_config.HasPath(id) || _config.GetValue(id)?.ValueType != ConfigValueType.Object)
        {
            throw new ConfigurationException(null, $"Dispatcher [{id}] not configured: there is no object at path '{id}'.");
        }

        Config dispatcher = _config.GetConfig(id);
        int throughput = dispatcher.GetInt("throughput", 30);
        if (throughput < 1)
        {
            throw new ConfigurationException(dispatcher.GetValue("throughput")?.Origin, $"Dispatcher [{id}]: throughput must be at least 1, not {throughput}.");
        }

        return KindOf(id) switch
        {
            DispatcherKind.ThreadPool => new ThreadPoolDispatcher(id, throughput),
            DispatcherKind.Pinned => new PinnedDispatcher(id),
            DispatcherKind.CallingThread => new CallingThreadDispatcher(id, throughput),
            _ => throw new ConfigurationException(
                dispatcher.GetValue("type")?.Origin,
                $"Dispatcher [{id}] has unknown type '{dispatcher.GetString("type")}': use Dispatcher, PinnedDispatcher or CallingThreadDispatcher."),
        };
    }

    private DispatcherKind? KindOf(string id)
    {
        string type = _config.GetConfig(id).GetString("type", "Dispatcher") ?? "Dispatcher";
        if (type.Contains("CallingThread", StringComparison.Ordinal))
        {
            return DispatcherKind.CallingThread;
        }

        if (type.Contains("Pinned", StringComparison.Ordinal))
        {
            return DispatcherKind.Pinned;
        }

        return type is "Dispatcher" or "ForkJoinDispatcher" or "TaskDispatcher" || type.StartsWith("Akka.Dispatch.", StringComparison.Ordinal)
            ? DispatcherKind.ThreadPool
            : null;
    }

    private enum DispatcherKind
    {
        ThreadPool,
        Pinned,
        CallingThread,
    }
}

/// <summary>
/// Looks mailboxes up by id: <c>mailbox-type</c> unbounded (default) or bounded
/// (<c>Akka.Dispatch.BoundedMailbox</c>) with <c>mailbox-capacity</c> and
/// <c>overflow-strategy</c> (<c>drop-new</c> or <c>drop-head</c>).
/// </summary>
public sealed class Mailboxes
{
    private readonly Config _config;

    internal Mailboxes(Config config)
    {
        _config = config;
    }

    internal Mailbox Create(string id)
    {
        if (!_config.HasPath(id))
        {
            if (id == Runtime.Props.DefaultMailboxId)
            {
                return new Mailbox(new UnboundedMessageQueue());
            }

            throw new ConfigurationException(null, $"Mailbox [{id}] not configured: there is no object at path '{id}'.");
        }

        Config mailbox = _config.GetConfig(id);
        string type = mailbox.GetString("mailbox-type", "unbounded") ?? "unbounded";
        if (!type.Contains("bounded", StringComparison.OrdinalIgnoreCase) || type.Contains("Unbounded", StringComparison.OrdinalIgnoreCase))
        {
            return new Mailbox(new UnboundedMessageQueue());
        }

        int capacity = mailbox.GetInt("mailbox-capacity", 1000);
        if (capacity < 1)
        {
            throw new ConfigurationException(mailbox.GetValue("mailbox-capacity")?.Origin, $"Mailbox [{id}]: mailbox-capacity must be at least 1, not {capacity}.");
        }

        string overflow = mailbox.GetString("overflow-strategy", "drop-new") ?? "drop-new";
        MailboxOverflowStrategy strategy = overflow switch
        {
            "drop-new" => MailboxOverflowStrategy.DropNew,
            "drop-head" => MailboxOverflowStrategy.DropHead,
            _ => throw new ConfigurationException(mailbox.GetValue("overflow-strategy")?.Origin, $"Mailbox [{id}]: overflow-strategy must be drop-new or drop-head, not '{overflow}'."),
        };
        return new Mailbox(new BoundedMessageQueue(capacity, strategy));
    }
}
