using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Flover.Actors.Inference;
using Flover.Configuration;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Sampling;
using Flover.Host.Http;

namespace Flover.Host.Cli;

/// <summary>
/// <c>flover generate (--model DIR|NAME | --preset NAME) (--prompt TEXT | --token-ids 1,2,3)
/// --max-tokens N [--temperature T] [--top-k K] [--top-p P] [--seed S] [--logprobs K] [--ignore-eos]
/// [--threads N] [--dtype D] [--tensor-parallel N] [--device D] [--config FILE] [--set key=value] [--json]</c>:
/// one request through the same engine <c>serve</c> runs (an actor system with the inference engine,
/// its decode loop and the model's shard actors, one KV slot), on the configured device (the CPU
/// engine by default), so its tokens are bitwise those <c>serve</c> gives the same request. Text
/// streams to stdout as it is generated; with <c>--json</c> stdout holds one object at the end.
/// </summary>
internal static class GenerateCommand
{
    public static Command Create(CliConsole console)
    {
        Option<string?> model = CommonOptions.Model();
        Option<string?> preset = CommonOptions.Preset();
        var prompt = new Option<string?>("--prompt", "-p") { Description = "The prompt text (an empty prompt starts from <|endoftext|>)." };
        var tokenIds = new Option<string?>("--token-ids") { Description = "The prompt as token ids: 1,2,3 or \"1 2 3\" or [1,2,3]." };
        var maxTokens = new Option<int>("--max-tokens", "-n") { Description = "Tokens to generate at most.", Required = true };
        var temperature = new Option<float>("--temperature", "-t") { Description = "Sampling temperature; 0 is greedy.", DefaultValueFactory = _ => 1f };
        var topK = new Option<int>("--top-k") { Description = "Sample among the K most likely tokens; 0 turns it off.", DefaultValueFactory = _ => 0 };
        var topP = new Option<float>("--top-p") { Description = "Sample among the most likely tokens whose probability reaches P; 1 turns it off.", DefaultValueFactory = _ => 1f };
        var seed = new Option<ulong?>("--seed") { Description = "Seed of the sampler (the same seed gives the same tokens); random when absent, and printed on stderr." };
        var logprobs = new Option<int?>("--logprobs") { Description = "Report each token's log-probability and the K most likely alternatives (0..20)." };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "Keep generating after <|endoftext|>." };
        Option<bool> json = CommonOptions.Json();
        var command = new Command("generate", "Generate text from a prompt with one model (on the CPU unless --device says otherwise).")
        {
            model, preset, prompt, tokenIds, maxTokens, temperature, topK, topP, seed, logprobs, ignoreEos, json,
        };
        EngineCommandOptions engine = EngineCommandOptions.AddTo(command);
        command.SetAction(parse =>
        {
            ulong chosenSeed = parse.GetValue(seed) ?? BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
            var request = new GenerateRequest(
                parse.GetValue(model),
                parse.GetValue(preset),
                parse.GetValue(prompt),
                parse.GetValue(tokenIds),
                engine.LoadConfig(parse),
                new SamplingParameters
                {
                    MaxTokens = parse.GetValue(maxTokens),
                    Temperature = parse.GetValue(temperature),
                    TopK = parse.GetValue(topK),
                    TopP = parse.GetValue(topP),
                    Seed = chosenSeed,
                    Logprobs = parse.GetValue(logprobs),
                    IgnoreEos = parse.GetValue(ignoreEos),
                });
            return RunAsync(request, parse.GetValue(json), console);
        });
        return command;
    }

    internal static int Run(GenerateRequest request, bool json, CliConsole console) =>
        RunAsync(request, json, console).GetAwaiter().GetResult();

    internal static async Task<int> RunAsync(GenerateRequest request, bool json, CliConsole console)
    {
        if ((request.Prompt is null) == (request.TokenIds is null))
        {
            throw new FloverException("Give the prompt as exactly one of --prompt TEXT or --token-ids 1,2,3.");
        }

        // One request: one KV slot, the fused loop (a request alone gets the same tokens under any scheduler).
        // Akka logs below WARNING would land on stdout between the generated text.
        Config config = ConfigurationFactory.ParseString("flover.engine.kv-slots = 1\nflover.scheduler.kind = fused\nakka.loglevel = WARNING").WithFallback(request.Config);
        EngineHost host = EngineHost.Load(config, request.Model, request.Preset, console.Error, role: "generate", device: request.Device);
        await using (host.ConfigureAwait(false))
        {
            ServedModel served = host.Model;
            request.Sampling.Validate(served.VocabularySize);
            int[] prompt = PromptIds(request, served);
            if (prompt.Length >= served.ContextLength)
            {
                throw new FloverException($"The prompt has {prompt.Length} {(prompt.Length == 1 ? "token" : "tokens")}; a KV slot holds {served.ContextLength} positions (flover.engine.max-positions, at most the model's n_positions), so at most {served.ContextLength - 1} leave room to generate.");
            }

            console.Error.WriteLine($"generate: prompt {prompt.Length} {(prompt.Length == 1 ? "token" : "tokens")}; seed {request.Sampling.Seed}");
            EngineClient client = await host.StartSystemAsync().ConfigureAwait(false);
            var clock = Stopwatch.StartNew();
            var tokens = new List<Token>();
            Completed? completed = null;
            using (GenerationStream stream = client.Start(new Generate(prompt, request.Sampling)))
            {
                await foreach (object message in stream.Events.ReadAllAsync().ConfigureAwait(false))
                {
                    switch (message)
                    {
                        case Token token:
                            tokens.Add(token);
                            if (!json)
                            {
                                console.Out.Write(token.TextDelta);
                                console.Out.Flush();
                            }

                            break;
                        case Completed done:
                            completed = done;
                            break;
                        case Rejected rejected:
                            throw new FloverException($"generate: the engine rejected the request: {rejected.Reason}");
                    }
                }

                stream.MarkFinished();
            }

            double seconds = clock.Elapsed.TotalSeconds;
            if (completed is null || completed.FinishReason == FinishReason.Error)
            {
                throw new FloverException($"generate: the engine failed: {completed?.Error ?? "no answer"}");
            }

            // The end-of-sequence token that stops a request is not text, nor one of its tokens.
            int count = tokens.Count;
            SampledToken[] kept = [.. tokens.Take(completed.FinishReason == FinishReason.Eos ? count - 1 : count).Select(t => new SampledToken(t.TokenId, t.Logprob, t.TopLogprobs, null))];
            if (!json)
            {
                console.Out.WriteLine(completed.TrailingText);
                if (request.Sampling.Logprobs is not null)
                {
                    GenerateOutput.WriteLogprobsText(kept, console.Out);
                }
            }
            else
            {
                string text = string.Concat(tokens.Select(t => t.TextDelta)) + completed.TrailingText;
                console.Out.WriteLine(GenerateOutput.Json(kept, text, completed.FinishReason, request.Sampling.Logprobs is not null));
            }

            console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"generate: {count} tokens in {seconds:0.000} s ({count / seconds:0.0} tokens/s), finish: {GenerateOutput.FinishName(completed.FinishReason)}"));
            return 0;
        }
    }

    private static int[] PromptIds(GenerateRequest request, ServedModel model)
    {
        if (request.TokenIds is not null)
        {
            int[] ids = TokenIdListParser.Parse(request.TokenIds);
            if (ids.Length == 0)
            {
                throw new FloverException("--token-ids is empty: give at least one token id.");
            }

            foreach (int id in ids)
            {
                if (id >= model.VocabularySize)
                {
                    throw new FloverException($"--token-ids: {id} is outside the model's vocabulary of {model.VocabularySize} tokens.");
                }
            }

            return ids;
        }

        int[] encoded = model.Tokenizer.Encode(request.Prompt!);
        // GPT-2 has no separate beginning-of-sequence token: an empty prompt starts from <|endoftext|>.
        return encoded.Length == 0 ? [model.Tokenizer.BosTokenId ?? model.EosTokenId] : encoded;
    }
}

/// <summary>What one <c>generate</c> invocation asks for: the model, the prompt, the configuration in force (flags applied) and the sampling.</summary>
internal sealed record GenerateRequest(string? Model, string? Preset, string? Prompt, string? TokenIds, Config Config, SamplingParameters Sampling)
{
    /// <summary>Overrides <c>flover.engine.device</c> (ILGPU's CPU accelerator, which configuration cannot name, in tests).</summary>
    public DeviceSpec? Device { get; init; }
}
