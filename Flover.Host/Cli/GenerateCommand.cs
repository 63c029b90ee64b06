using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tokenization;

namespace Flover.Host.Cli;

/// <summary>
/// <c>flover generate (--model DIR|NAME | --preset NAME) (--prompt TEXT | --token-ids 1,2,3)
/// --max-tokens N [--temperature T] [--top-k K] [--top-p P] [--seed S] [--logprobs K] [--ignore-eos]
/// [--threads N] [--device D] [--config FILE] [--set key=value] [--json]</c>: one request, alone, on the configured device (the CPU engine by default). Text streams to stdout as it is
/// generated; with <c>--json</c> stdout holds one object at the end.
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
                engine.Resolve(parse),
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
            return Run(request, parse.GetValue(json), console);
        });
        return command;
    }

    internal static int Run(GenerateRequest request, bool json, CliConsole console)
    {
        if ((request.Prompt is null) == (request.TokenIds is null))
        {
            throw new FloverException("Give the prompt as exactly one of --prompt TEXT or --token-ids 1,2,3.");
        }

        using IModelWeights weights = ModelSource.Open(request.Model, request.Preset);
        Gpt2Tokenizer tokenizer = request.Model is null ? Gpt2Tokenizer.Default : Gpt2Tokenizer.FromFolder(ModelLocator.Resolve(request.Model));
        Gpt2Config config = weights.Config;
        request.Sampling.Validate(config.VocabularySize);
        int[] prompt = PromptIds(request, tokenizer, config);
        if (prompt.Length >= config.MaxPositions)
        {
            throw new FloverException($"The prompt has {prompt.Length} tokens; {weights.Source} holds {config.MaxPositions} positions, so at most {config.MaxPositions - 1} leave room to generate.");
        }

        int capacity = (int)Math.Min(config.MaxPositions, (long)prompt.Length + request.Sampling.MaxTokens);
        using var engine = TensorParallelModel.Load(request.Engine, weights, new Gpt2ModelOptions(SlotCount: 1, SlotCapacity: capacity));
        console.Error.WriteLine($"generate: {weights.Source}; {engine.DeviceDetails}; prompt {prompt.Length} tokens; seed {request.Sampling.Seed}");

        IncrementalDecoder? stream = json ? null : tokenizer.CreateIncrementalDecoder();
        var clock = Stopwatch.StartNew();
        GenerationResult result = SequenceGenerator.Generate(engine, 0, prompt, request.Sampling, config.EosTokenId, token =>
        {
            // The end-of-sequence token that stops a request is not text.
            if (stream is not null && token.Finish != FinishReason.Eos)
            {
                console.Out.Write(stream.Append(token.TokenId));
                console.Out.Flush();
            }
        });
        double seconds = clock.Elapsed.TotalSeconds;

        SampledToken[] tokens = [.. result.Tokens.Where(t => t.Finish != FinishReason.Eos)];
        if (stream is not null)
        {
            console.Out.WriteLine(stream.Flush());
            if (request.Sampling.Logprobs is not null)
            {
                GenerateOutput.WriteLogprobsText(tokens, console.Out);
            }
        }
        else
        {
            console.Out.WriteLine(GenerateOutput.Json(tokens, tokenizer.Decode([.. tokens.Select(t => t.TokenId)]), result.Finish, request.Sampling.Logprobs is not null));
        }

        console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"generate: {result.Tokens.Count} tokens in {seconds:0.000} s ({result.Tokens.Count / seconds:0.0} tokens/s), finish: {GenerateOutput.FinishName(result.Finish)}"));
        return 0;
    }

    private static int[] PromptIds(GenerateRequest request, Gpt2Tokenizer tokenizer, Gpt2Config config)
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
                if (id >= config.VocabularySize)
                {
                    throw new FloverException($"--token-ids: {id} is outside the model's vocabulary of {config.VocabularySize} tokens.");
                }
            }

            return ids;
        }

        int[] encoded = tokenizer.Encode(request.Prompt!);
        // GPT-2 has no separate beginning-of-sequence token: an empty prompt starts from <|endoftext|>.
        return encoded.Length == 0 ? [config.BosTokenId] : encoded;
    }
}

/// <summary>What one <c>generate</c> invocation asks for.</summary>
internal sealed record GenerateRequest(string? Model, string? Preset, string? Prompt, string? TokenIds, EngineOptions Engine, SamplingParameters Sampling);
