using Flover.Actors.Serialization;
using Flover.Testing;

namespace Flover.Actors.Tests.Runtime;

public sealed class SerializationSpec : TestKit
{
    [Fact]
    public void An_immutable_record_round_trips_through_bytes_and_its_manifest()
    {
        var message = new Greeting("hello", 3, ["a", "b"]);

        var (bytes, serializerId, manifest) = Sys.Serialization.Serialize(message);
        object back = Sys.Serialization.Deserialize(bytes, serializerId, manifest);

        Assert.Equal(message.Text, ((Greeting)back).Text);
        Assert.Equal(message.Times, ((Greeting)back).Times);
        Assert.Equal(message.Tags, ((Greeting)back).Tags);
        Assert.Equal(typeof(Greeting).FullName + ", Flover.Actors.Tests", manifest);
    }

    [Fact]
    public void An_unknown_manifest_or_serializer_id_fails_with_a_clear_error()
    {
        Assert.Contains("Unknown message type", Assert.Throws<SerializationException>(() => Sys.Serialization.Deserialize([], 1, "No.Such.Type, Nowhere")).Message, StringComparison.Ordinal);
        Assert.Contains("No serializer with id 99", Assert.Throws<SerializationException>(() => Sys.Serialization.Deserialize([], 99, "x")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_serializer_bound_to_a_base_type_serves_its_subtypes()
    {
        var custom = new FixedSerializer();
        Sys.Serialization.AddSerializer(typeof(Greeting), custom);

        Assert.Same(custom, Sys.Serialization.FindSerializerFor(new Greeting("x", 1, [])));
    }

    public sealed record Greeting(string Text, int Times, IReadOnlyList<string> Tags);

    private sealed class FixedSerializer : Serializer
    {
        public override int Identifier => 42;

        public override byte[] ToBinary(object obj) => [1];

        public override object FromBinary(byte[] bytes, Type type) => new Greeting("fixed", 0, []);
    }
}
