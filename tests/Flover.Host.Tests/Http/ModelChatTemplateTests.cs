using System.Text.Json;
using System.Text.Json.Nodes;
using Flover.Gpu;
using Flover.Gpu.Tests.Tokenization.HuggingFace;
using Flover.Gpu.Tokenization;
using Flover.Gpu.Tokenization.HuggingFace;
using Flover.Host.Http;

namespace Flover.Host.Tests.Http;

/// <summary>
/// <c>/v1/chat/completions</c> for a model with a Jinja chat_template (LLaMA 2's, over the
/// SentencePiece-style test tokenizer): the prompt is the rendered template, special tokens as ids and
/// one BOS; the template's raise_exception is a 400 with its message; a template the interpreter
/// cannot parse fails when the model loads.
/// </summary>
public sealed class ModelChatTemplateTests : IDisposable
{
    private const string Llama2Template =
        "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}"
        + "{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
        + "{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
        + "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
        + "{% else %}{% set content = message['content'] %}{% endif %}"
        + "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
        + "{% elif message['role'] == 'assistant' %}{{ ' ' + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

    private readonly string _folder = Directory.CreateTempSubdirectory("flover-chat-template-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void The_prompt_is_the_rendered_template_with_special_ids_and_one_bos()
    {
        ServedModel model = Model(Llama2Template);
        GenerationRequest request = ChatRequestParser.Parse(Body("""[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello."},{"role":"user","content":"Bye"}]"""), model);

        const string Expected = "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello. </s><s>[INST] Bye [/INST]";
        Assert.Equal(model.Tokenizer.Encode(Expected, allowSpecialTokens: true), request.PromptIds);
        Assert.Equal(1, request.PromptIds[0]);
        Assert.NotEqual(1, request.PromptIds[1]);
        Assert.Equal(2, request.PromptIds.Count(id => id == 1));
        Assert.Contains(2, request.PromptIds); // </s> as its id, not as characters.
    }

    [Fact]
    public void The_template_raise_exception_is_a_400_with_its_message()
    {
        ServedModel model = Model(Llama2Template);
        var error = Assert.Throws<ApiException>(() => ChatRequestParser.Parse(Body("""[{"role":"user","content":"a"},{"role":"user","content":"b"}]"""), model));
        Assert.Equal(400, error.StatusCode);
        Assert.Equal("messages", error.Param);
        Assert.Equal("Conversation roles must alternate user/assistant/user/assistant/...", error.Message);
    }

    [Fact]
    public void A_template_the_interpreter_cannot_parse_fails_at_load_with_one_line()
    {
        WriteFolder("{% for m in messages %}{{ m.content }}\n{% macro x() %}{% endmacro %}{% endfor %}");
        var error = Assert.Throws<FloverException>(() => ChatTemplate.For(TokenizerLoader.FromFolder(_folder)));
        Assert.Equal($"{Path.Combine(_folder, "tokenizer_config.json")}: chat_template: line 2: the tag 'macro' is not supported.", error.Message);
    }

    [Fact]
    public void Without_a_template_the_plain_one_is_used()
    {
        WriteFolder(template: null);
        ITokenizer tokenizer = TokenizerLoader.FromFolder(_folder);
        Assert.Same(ChatTemplate.Plain, ChatTemplate.For(tokenizer));
        Assert.Same(ChatTemplate.Plain, ChatTemplate.For(Gpt2Tokenizer.Default));
    }

    private ServedModel Model(string template)
    {
        WriteFolder(template);
        HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.FromFolder(_folder);
        return new ServedModel("llama-test", 256, tokenizer.VocabularySize, tokenizer.EosTokenId!.Value, tokenizer, DateTimeOffset.UnixEpoch, ChatTemplate.For(tokenizer));
    }

    private void WriteFolder(string? template)
    {
        LlamaStyleFiles.WriteSentencePieceStyle(_folder);
        string configPath = Path.Combine(_folder, "tokenizer_config.json");
        JsonNode config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["chat_template"] = template;
        File.WriteAllText(configPath, config.ToJsonString());
    }

    private static JsonElement Body(string messages) =>
        JsonDocument.Parse($$"""{"model":"llama-test","messages":{{messages}},"max_tokens":4}""").RootElement.Clone();
}
