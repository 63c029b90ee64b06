using Flover.Gpu.Tokenization;

namespace Flover.Host.Http;

/// <summary>The model an HTTP server serves, as its endpoints need to know it.</summary>
/// <param name="Id">The name clients use in <c>model</c> (the preset name, or <c>--model</c> as given).</param>
/// <param name="ContextLength">Positions one request may use: prompt plus generated tokens.</param>
/// <param name="VocabularySize">Valid token ids are 0 to this minus one.</param>
/// <param name="EosTokenId">The end-of-sequence token (not text; never part of a completion).</param>
/// <param name="Tokenizer">Turns prompts into ids and ids into text.</param>
/// <param name="Created">When the server loaded it (<c>created</c> in <c>/v1/models</c>).</param>
/// <param name="Chat">How chat messages become a prompt (the model's Jinja template, parsed at load); null for the plain template.</param>
internal sealed record ServedModel(string Id, int ContextLength, int VocabularySize, int EosTokenId, ITokenizer Tokenizer, DateTimeOffset Created, ChatTemplate? Chat = null);
