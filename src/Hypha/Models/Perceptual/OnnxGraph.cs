using Google.Protobuf;

namespace Hypha.Models.Perceptual;

/// <summary>An ONNX node attribute: the fields Hypha reads (float, int, ints, string).</summary>
public sealed record OnnxAttribute(string Name, float? Float, long? Int, long[] Ints, string? Text);

/// <summary>An ONNX node: operator, inputs and outputs by value name, attributes by name.</summary>
public sealed record OnnxNode(string Op, string Name, string[] Inputs, string[] Outputs, IReadOnlyDictionary<string, OnnxAttribute> Attributes)
{
    /// <summary>The ints attribute <paramref name="name"/>, or <paramref name="fallback"/> when the node has none.</summary>
    public long[] Ints(string name, long[] fallback) => Attributes.TryGetValue(name, out var a) && a.Ints.Length > 0 ? a.Ints : fallback;

    /// <summary>The int attribute <paramref name="name"/>, or <paramref name="fallback"/>.</summary>
    public long Int(string name, long fallback) => Attributes.TryGetValue(name, out var a) && a.Int is { } v ? v : fallback;

    /// <summary>The float attribute <paramref name="name"/>, or <paramref name="fallback"/>.</summary>
    public float Float(string name, float fallback) => Attributes.TryGetValue(name, out var a) && a.Float is { } v ? v : fallback;

    /// <summary>The string attribute <paramref name="name"/>, or <paramref name="fallback"/>.</summary>
    public string Text(string name, string fallback) => Attributes.TryGetValue(name, out var a) && a.Text is { } v ? v : fallback;
}

/// <summary>A float32 initializer (a weight) of an ONNX graph.</summary>
public sealed record OnnxTensor(string Name, long[] Dims, float[] Values);

/// <summary>
/// The parts of an ONNX model (onnx.proto3's ModelProto) that running a convolutional network needs: the graph's
/// nodes in order, its float32 initializers, and its input and output names. Read with Google.Protobuf's wire-format
/// reader (<see cref="CodedInputStream"/>) against the field numbers of onnx.proto, so no generated code and no copy of
/// the schema are needed; every other field is skipped. Packed and unpacked repeated fields are both read.
/// </summary>
public sealed class OnnxGraph
{
    // onnx.proto field numbers.
    const int ModelGraph = 7;
    const int GraphNode = 1, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12;
    const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOp = 4, NodeAttribute = 5;
    const int AttrName = 1, AttrFloat = 2, AttrInt = 3, AttrText = 4, AttrInts = 8;
    const int TensorDims = 1, TensorType = 2, TensorFloats = 4, TensorName = 8, TensorRaw = 9;
    const int ValueInfoName = 1;
    const int FloatType = 1;

    public IReadOnlyList<OnnxNode> Nodes { get; }
    public IReadOnlyDictionary<string, OnnxTensor> Initializers { get; }
    public IReadOnlyList<string> Inputs { get; }
    public IReadOnlyList<string> Outputs { get; }

    OnnxGraph(List<OnnxNode> nodes, Dictionary<string, OnnxTensor> initializers, List<string> inputs, List<string> outputs) =>
        (Nodes, Initializers, Inputs, Outputs) = (nodes, initializers, inputs, outputs);

    /// <summary>Reads <paramref name="path"/>; an <see cref="InvalidDataException"/> naming the file when it is not an
    /// ONNX model this reader understands (no graph, a non-float32 initializer).</summary>
    public static OnnxGraph Read(string path)
    {
        try
        {
            return Parse(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidDataException or OverflowException)
        {
            throw new InvalidDataException($"{path}: not an ONNX model Hypha can read ({e.Message})", e);
        }
    }

    /// <summary>Parses a serialized ModelProto.</summary>
    public static OnnxGraph Parse(byte[] model)
    {
        ByteString? graph = null;
        var input = new CodedInputStream(model);
        for (uint tag; (tag = input.ReadTag()) != 0;)
            if (Field(tag) == ModelGraph) graph = input.ReadBytes();
            else input.SkipLastField();
        if (graph is null) throw new InvalidDataException("the model has no graph");

        var nodes = new List<OnnxNode>();
        var initializers = new Dictionary<string, OnnxTensor>();
        List<string> inputs = [], outputs = [];
        var g = graph.CreateCodedInput();
        for (uint tag; (tag = g.ReadTag()) != 0;)
        {
            switch (Field(tag))
            {
                case GraphNode: nodes.Add(ReadNode(g.ReadBytes())); break;
                case GraphInitializer:
                    var t = ReadTensor(g.ReadBytes());
                    initializers[t.Name] = t;
                    break;
                case GraphInput: inputs.Add(ReadValueName(g.ReadBytes())); break;
                case GraphOutput: outputs.Add(ReadValueName(g.ReadBytes())); break;
                default: g.SkipLastField(); break;
            }
        }
        // Graph inputs conventionally list the initializers too; only the true inputs are kept.
        inputs.RemoveAll(initializers.ContainsKey);
        return new OnnxGraph(nodes, initializers, inputs, outputs);
    }

    static int Field(uint tag) => WireFormat.GetTagFieldNumber(tag);

    static OnnxNode ReadNode(ByteString bytes)
    {
        List<string> inputs = [], outputs = [];
        string name = "", op = "";
        var attributes = new Dictionary<string, OnnxAttribute>();
        var s = bytes.CreateCodedInput();
        for (uint tag; (tag = s.ReadTag()) != 0;)
        {
            switch (Field(tag))
            {
                case NodeInput: inputs.Add(s.ReadString()); break;
                case NodeOutput: outputs.Add(s.ReadString()); break;
                case NodeName: name = s.ReadString(); break;
                case NodeOp: op = s.ReadString(); break;
                case NodeAttribute:
                    var a = ReadAttribute(s.ReadBytes());
                    attributes[a.Name] = a;
                    break;
                default: s.SkipLastField(); break;
            }
        }
        return new OnnxNode(op, name, [.. inputs], [.. outputs], attributes);
    }

    static OnnxAttribute ReadAttribute(ByteString bytes)
    {
        string name = "";
        float? f = null;
        long? i = null;
        string? text = null;
        var ints = new List<long>();
        var s = bytes.CreateCodedInput();
        for (uint tag; (tag = s.ReadTag()) != 0;)
        {
            switch (Field(tag))
            {
                case AttrName: name = s.ReadString(); break;
                case AttrFloat: f = s.ReadFloat(); break;
                case AttrInt: i = s.ReadInt64(); break;
                case AttrText: text = s.ReadBytes().ToStringUtf8(); break;
                case AttrInts: ReadInt64s(s, tag, ints); break;
                default: s.SkipLastField(); break;
            }
        }
        return new OnnxAttribute(name, f, i, [.. ints], text);
    }

    static OnnxTensor ReadTensor(ByteString bytes)
    {
        var dims = new List<long>();
        var type = 0;
        string name = "";
        ByteString? raw = null;
        var floats = new List<float>();
        var s = bytes.CreateCodedInput();
        for (uint tag; (tag = s.ReadTag()) != 0;)
        {
            switch (Field(tag))
            {
                case TensorDims: ReadInt64s(s, tag, dims); break;
                case TensorType: type = s.ReadInt32(); break;
                case TensorName: name = s.ReadString(); break;
                case TensorRaw: raw = s.ReadBytes(); break;
                case TensorFloats:
                    if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                    {
                        var packed = s.ReadBytes().CreateCodedInput();
                        while (!packed.IsAtEnd) floats.Add(packed.ReadFloat());
                    }
                    else floats.Add(s.ReadFloat());
                    break;
                default: s.SkipLastField(); break;
            }
        }
        if (type != FloatType) throw new InvalidDataException($"initializer {name} has ONNX data type {type}, not float32");
        var count = dims.Aggregate(1L, (a, d) => a * d);
        float[] values;
        if (raw is not null)
        {
            if (raw.Length != count * sizeof(float)) throw new InvalidDataException($"initializer {name} holds {raw.Length} bytes for {count} floats");
            values = new float[count];
            // ONNX raw data is little-endian, as every platform .NET runs Hypha on.
            raw.Span.CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        }
        else
        {
            if (floats.Count != count) throw new InvalidDataException($"initializer {name} holds {floats.Count} floats for shape [{string.Join(", ", dims)}]");
            values = [.. floats];
        }
        return new OnnxTensor(name, [.. dims], values);
    }

    static string ReadValueName(ByteString bytes)
    {
        var s = bytes.CreateCodedInput();
        for (uint tag; (tag = s.ReadTag()) != 0;)
            if (Field(tag) == ValueInfoName) return s.ReadString();
            else s.SkipLastField();
        return "";
    }

    static void ReadInt64s(CodedInputStream s, uint tag, List<long> into)
    {
        if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
        {
            var packed = s.ReadBytes().CreateCodedInput();
            while (!packed.IsAtEnd) into.Add(packed.ReadInt64());
        }
        else into.Add(s.ReadInt64());
    }
}
