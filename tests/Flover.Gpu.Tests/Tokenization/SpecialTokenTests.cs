using Flover.Gpu.Tokenization;

namespace Flover.Gpu.Tests.Tokenization;

public sealed class SpecialTokenTests
{
    [Fact]
    public void Literal_endoftext_in_text_is_encoded_as_ordinary_characters_by_default()
    {
        int[] ids = Gpt2Tokenizer.Default.Encode("a<|endoftext|>b");

        Assert.DoesNotContain(50256, ids);
        Assert.Equal("a<|endoftext|>b", Gpt2Tokenizer.Default.Decode(ids));
    }

    [Fact]
    public void Allowing_special_tokens_turns_the_literal_into_its_id()
    {
        int[] ids = Gpt2Tokenizer.Default.Encode("Hello<|endoftext|> world", allowSpecialTokens: true);

        Assert.Equal([15496, 50256, 995], ids);
    }

    [Fact]
    public void Consecutive_special_tokens_and_text_at_both_ends_are_all_kept()
    {
        Gpt2Tokenizer tokenizer = Gpt2Tokenizer.Default;

        int[] ids = tokenizer.Encode("<|endoftext|><|endoftext|>x<|endoftext|>", allowSpecialTokens: true);

        Assert.Equal([50256, 50256, .. tokenizer.Encode("x"), 50256], ids);
    }

    [Fact]
    public void The_special_token_id_decodes_to_its_text()
    {
        Assert.Equal("Hi<|endoftext|>", Gpt2Tokenizer.Default.Decode([17250, 50256]));
    }

    [Fact]
    public void The_GPT2_tokenizer_lists_endoftext_as_its_only_special_token()
    {
        KeyValuePair<string, int> special = Assert.Single(Gpt2Tokenizer.Default.SpecialTokens);

        Assert.Equal(new KeyValuePair<string, int>("<|endoftext|>", 50256), special);
    }
}
