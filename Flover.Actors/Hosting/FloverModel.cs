namespace Flover.Actors.Hosting;

/// <summary>Which model an engine serves: one of the built-in presets (random weights of a real shape), or a Hugging Face model folder.</summary>
public sealed record FloverModel
{
    private FloverModel(string? folder, string? preset)
    {
        Folder = folder;
        Preset = preset;
    }

    /// <summary>A Hugging Face folder (config.json, *.safetensors, tokenizer files), or a name in the local Hugging Face cache.</summary>
    public string? Folder { get; }

    /// <summary>A preset name: <c>tiny</c>, <c>gpt2</c>, <c>gpt2-medium</c>.</summary>
    public string? Preset { get; }

    /// <summary>The preset <paramref name="name"/> (its tokenizer is GPT-2's).</summary>
    public static FloverModel FromPreset(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new FloverModel(null, name);
    }

    /// <summary>The Hugging Face model in <paramref name="folder"/> (its tokenizer is read from the folder).</summary>
    public static FloverModel FromFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        return new FloverModel(folder, null);
    }

    /// <inheritdoc />
    public override string ToString() => Folder ?? $"preset '{Preset}'";
}
