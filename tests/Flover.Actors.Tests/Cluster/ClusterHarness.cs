using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Remote;
using Akka.Remote.Transport;
using Flover.Actors.Cluster;
using Flover.Actors.Inference;
using Flover.Actors.Tests.Inference.Baselines;
using Flover.Gpu.Memory;
using Flover.Gpu.Tokenization;
using AkkaConfig = Akka.Configuration.Config;
using ConfigurationFactory = Akka.Configuration.ConfigurationFactory;

namespace Flover.Actors.Tests.Cluster;

/// <summary>
/// Worker nodes for the cluster specs: each its own ActorSystem in this process on loopback TCP
/// (port 0), joined to the test's system (the frontend), running a tiny engine (the shared weights
/// of <see cref="SharedTinyFixture"/>) behind a <see cref="WorkerAgent"/>, or a stub engine.
/// </summary>
internal sealed class ClusterHarness(ActorSystem frontend, SharedTinyFixture fixture) : IDisposable
{
    /// <summary>The fingerprint of the tiny engines.</summary>
    public static readonly WorkerFingerprint Tiny = new("tiny", "preset:tiny", "f32", "f32", "cpu", 1);

    /// <summary>How often agents sample their engines in the specs.</summary>
    public static readonly TimeSpan StatusInterval = TimeSpan.FromMilliseconds(50);

    private readonly List<ActorSystem> _workers = [];

    /// <summary>
    /// A node's configuration: the cluster provider on 127.0.0.1 with a free port, the given role,
    /// over the actor specs' own (Flover's serializer). serialize-messages is off here: Akka.Cluster's
    /// own local events (ReachabilityChanged to its split brain resolver) have no serializer and
    /// would be lost, while every message of ours between nodes crosses real TCP and is serialized
    /// by Flover's serializer anyway.
    /// </summary>
    public static AkkaConfig Node(string role) => ConfigurationFactory.ParseString($$"""
        akka.actor.provider = cluster
        # The throttler adapter lets a spec cut a node off (blackhole) while it keeps running.
        akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0, applied-adapters = ["trttl"] }
        akka.cluster.roles = [{{role}}]
        akka.actor.serialize-messages = off
        akka.cluster.log-info = off
        # hocon/cluster/common.conf's resolver: only frontends count, so losing workers never downs a frontend;
        # decided after 2 s of a stable picture instead of 20 s, to keep the specs short.
        akka.cluster.split-brain-resolver { active-strategy = keep-majority, keep-majority.role = frontend, stable-after = 2s }
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        # ActorSystem.Terminate is a crash here (no drain, no leave); Leave runs the coordinated shutdown.
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        # A leaving worker's drain (WorkerAgent) may take the rest of a paced request.
        akka.coordinated-shutdown.phases.service-requests-done.timeout = 30s
        """).WithFallback(AkkaTestConfig.Default);

    /// <summary>A worker node with a tiny engine of <paramref name="slots"/> slots stepping at most every <paramref name="minStepInterval"/>; returns its system and engine.</summary>
    public (ActorSystem System, IActorRef Engine) TinyWorker(TimeSpan minStepInterval, int slots = 8, WorkerFingerprint? fingerprint = null)
    {
        ActorSystem worker = Join();
        var options = new DecodeLoopOptions(64, 512, MemoryMode.Indexed, fixture.Eos) { MinStepInterval = minStepInterval };
        IActorRef engine = worker.ActorOf(InferenceEngine.Props(fixture.Model(slots), options, Gpt2Tokenizer.Default), "engine");
        worker.ActorOf(WorkerAgent.Props(engine, fingerprint ?? Tiny, StatusInterval), WorkerAgent.Name);
        return (worker, engine);
    }

    /// <summary>A worker node whose "engine" reports <paramref name="status"/> and records every Generate it receives (never answering it).</summary>
    public ActorSystem StubWorker(WorkerFingerprint fingerprint, EngineStatus status, ConcurrentQueue<Generate> received)
    {
        ActorSystem worker = Join();
        IActorRef engine = worker.ActorOf(Props.Create(() => new StubEngine(status, received)), "engine");
        worker.ActorOf(WorkerAgent.Props(engine, fingerprint, StatusInterval), WorkerAgent.Name);
        return worker;
    }

    /// <summary>Drops (or, with <paramref name="cut"/> false, lets through again) everything between <paramref name="node"/> and <paramref name="peer"/>, both ways, as a network partition would.</summary>
    public static void Blackhole(ActorSystem node, ActorSystem peer, bool cut)
    {
        Address address = Akka.Cluster.Cluster.Get(peer).SelfAddress;
        ThrottleMode mode = cut ? Akka.Remote.Transport.Blackhole.Instance : Unthrottled.Instance;
        Task<bool> done = ((IRemoteActorRefProvider)((ExtendedActorSystem)node).Provider).Transport.ManagementCommand(new SetThrottle(address, ThrottleTransportAdapter.Direction.Both, mode));
        if (!done.Wait(TimeSpan.FromSeconds(10)) || !done.Result)
        {
            throw new InvalidOperationException($"the throttler did not {(cut ? "cut" : "restore")} {address}");
        }
    }

    /// <summary>Cuts <paramref name="victim"/> off from every other node (a clean partition: the others still see each other).</summary>
    public void Isolate(ActorSystem victim, bool cut)
    {
        foreach (ActorSystem node in _workers.Where(w => w != victim && !w.WhenTerminated.IsCompleted).Prepend(frontend))
        {
            Blackhole(node, victim, cut);
        }
    }

    /// <summary>A graceful leave, as SIGTERM runs it: the coordinated shutdown drains the worker, leaves the cluster, then stops the system.</summary>
    public static Task Leave(ActorSystem node) =>
        CoordinatedShutdown.Get(node).Run(CoordinatedShutdown.ClrExitReason.Instance);

    public void Dispose()
    {
        // All at once: each live one leaves the cluster gracefully (idle, so its drain is immediate);
        // a crashed one is only awaited.
        Task.WhenAll(_workers.Select(w => w.WhenTerminated.IsCompleted ? Task.CompletedTask : Leave(w).ContinueWith(_ => w.WhenTerminated).Unwrap())).Wait(TimeSpan.FromSeconds(30));
    }

    private ActorSystem Join()
    {
        ActorSystem worker = ActorSystem.Create(frontend.Name, Node(ClusterRoles.Worker));
        _workers.Add(worker);
        Akka.Cluster.Cluster.Get(worker).Join(Akka.Cluster.Cluster.Get(frontend).SelfAddress);
        return worker;
    }

    private sealed class StubEngine : ReceiveActor
    {
        public StubEngine(EngineStatus status, ConcurrentQueue<Generate> received)
        {
            Receive<ProbeEngine>(_ => Sender.Tell(status));
            Receive<Generate>(received.Enqueue);
            // It holds no real request: once draining it reports itself empty, so its node leaves at once.
            Receive<StartDraining>(_ =>
            {
                status = status with { Running = 0, Waiting = 0, KvSlotsUsed = 0, KvSlotsFree = status.KvSlotsUsed + status.KvSlotsFree };
                Sender.Tell(EngineDraining.Instance);
            });
        }
    }
}
