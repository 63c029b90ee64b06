"""Helpers for the scripts that run real flover processes as a cluster on 127.0.0.1
(bench-tp-processes.py, bench-cluster-routing.py): ports, starting a node, waiting for its line,
one greedy completion."""
import json, socket, subprocess, time, urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(flover, preset, command, seed_port, port, *settings):
    """Starts `flover COMMAND` (serve or node) on the preset, joining the cluster seeded at seed_port,
    its Akka.Remote port `port` (0: any); each setting is passed with --set. serve listens on any HTTP port."""
    args = [flover, command, "--preset", preset, "--set", "akka.actor.provider = cluster",
            "--set", 'akka.remote.dot-netty.tcp.hostname = "127.0.0.1"',
            "--set", f"akka.remote.dot-netty.tcp.port = {port}",
            "--set", f'akka.cluster.seed-nodes = ["akka.tcp://flover@127.0.0.1:{seed_port}"]']
    for s in settings:
        args += ["--set", s]
    if command == "serve":
        args += ["--port", "0"]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def wait_line(process, prefix, limit):
    """The first line of the process's standard output starting with prefix, within limit seconds."""
    deadline = time.time() + limit
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"process exited before '{prefix}'")
        if line.startswith(prefix):
            return line.strip()
    raise RuntimeError(f"no '{prefix}' within {limit} s")


def complete(base, prompt, tokens):
    """One greedy completion of `tokens` tokens (ignore_eos) from the server at base."""
    body = json.dumps({"prompt": prompt, "max_tokens": tokens, "temperature": 0, "ignore_eos": True}).encode()
    request = urllib.request.Request(base + "/v1/completions", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as r:
        json.loads(r.read())
