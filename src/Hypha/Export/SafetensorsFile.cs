using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Hypha.Export;

/// <summary>
/// Tensors in the safetensors layout (Hugging Face's format: an 8-byte little-endian header length, a JSON header
/// naming each tensor's dtype, shape and byte range, then the raw little-endian bytes), read and written through
/// TorchSharp.PyBridge. PyBridge writes no <c>__metadata__</c>; <see cref="Write"/> adds it to the header PyBridge
/// made (string keys and values, as the format allows), padded with spaces to 8 bytes so every tensor's data stays
/// aligned for readers that map the file. <see cref="Read"/> checks the header before PyBridge reads anything, so a
/// damaged or foreign file is one clear error instead of a half-loaded state dict.
/// </summary>
public static class SafetensorsFile
{
    /// <summary>The header entry that holds string metadata.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>Largest header read (100 MB, as the reference implementation's limit).</summary>
    const long MaxHeader = 100_000_000;

    static readonly Dictionary<string, int> ElementSizes = new()
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1,
    };

    /// <summary>Writes <paramref name="tensors"/> (any device or layout; written row-major from the CPU) in order, and
    /// <paramref name="metadata"/> under <see cref="MetadataKey"/>.</summary>
    public static void Write(Stream stream, IReadOnlyList<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var body = new MemoryStream();
        using (var scope = NewDisposeScope())
        {
            var dict = new Dictionary<string, Tensor>(tensors.Count);
            foreach (var (name, tensor) in tensors) dict.Add(name, tensor.detach().cpu().contiguous());
            TorchSharp.PyBridge.Safetensors.SaveStateDict(body, dict, leaveOpen: true);
        }
        var buffer = body.GetBuffer();
        var length = (int)BitConverter.ToUInt64(buffer, 0);
        var index = JsonNode.Parse(buffer.AsSpan(8, length)) as JsonObject ?? throw new InvalidDataException("PyBridge wrote no header");
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
            header[MetadataKey] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        foreach (var (name, entry) in index) header[name] = entry?.DeepClone();
        var json = Encoding.UTF8.GetBytes(header.ToJsonString(new JsonSerializerOptions { Encoder = ExportedConfig.Readable }));
        var padded = (json.Length + 7) / 8 * 8;
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write((ulong)padded);
        w.Write(json);
        for (var i = json.Length; i < padded; i++) w.Write((byte)' ');
        w.Write(buffer, 8 + length, (int)body.Length - 8 - length);
        w.Flush();
    }

    /// <summary>A file's tensors (on the CPU, owned by the caller: dispose) and metadata.</summary>
    public sealed class Content(Dictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata) : IDisposable
    {
        /// <summary>The tensors by name, in the file's order.</summary>
        public IReadOnlyDictionary<string, Tensor> Tensors { get; } = tensors;

        /// <summary>The header's <c>__metadata__</c> (empty when it has none).</summary>
        public IReadOnlyDictionary<string, string> Metadata { get; } = metadata;

        public void Dispose()
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>Reads a safetensors file; a damaged or foreign file is a <see cref="HyphaException"/> (exit 4) naming
    /// the file and the first problem.</summary>
    public static Content Read(string path)
    {
        if (Directory.Exists(path)) throw new HyphaException(ExitCode.BadCheckpoint, "is a folder, not a safetensors file", path);
        if (!File.Exists(path)) throw new HyphaException(ExitCode.BadCheckpoint, "no such file", path);
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            var metadata = CheckHeader(fs);
            fs.Seek(0, SeekOrigin.Begin);
            var tensors = TorchSharp.PyBridge.Safetensors.LoadStateDict(fs, leaveOpen: true);
            return new Content(tensors, metadata);
        }
        catch (InvalidDataException e)
        {
            throw new HyphaException(ExitCode.BadCheckpoint, $"is not a usable safetensors file: {e.Message}", path, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HyphaException(ExitCode.BadCheckpoint, $"cannot be read: {e.Message}", path, e);
        }
    }

    /// <summary>Checks the header's layout and every entry's byte range against the file; returns the metadata.</summary>
    static Dictionary<string, string> CheckHeader(FileStream fs)
    {
        if (fs.Length < 10) throw new InvalidDataException($"it is {fs.Length} bytes long, too short for a header");
        var head = new byte[8];
        fs.ReadExactly(head);
        var length = BitConverter.ToUInt64(head);
        if (length > MaxHeader || (long)length > fs.Length - 8)
            throw new InvalidDataException($"its first 8 bytes announce a {length}-byte header in a {fs.Length}-byte file (truncated, or not safetensors)");
        var json = new byte[length];
        fs.ReadExactly(json);
        JsonObject header;
        try
        {
            header = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException("its header is not a JSON object");
            _ = header.Count; // materializes the entries, so a name given twice is found here
        }
        catch (Exception e) when (e is JsonException or ArgumentException) // ArgumentException: a name given twice
        {
            throw new InvalidDataException($"its header is not valid JSON ({e.Message})");
        }
        var dataLength = fs.Length - 8 - (long)length;
        var metadata = new Dictionary<string, string>();
        var ranges = new List<(long Start, long End, string Name)>();
        foreach (var (name, node) in header)
        {
            if (name == MetadataKey)
            {
                if (node is not JsonObject meta) throw new InvalidDataException($"its {MetadataKey} is not an object of strings");
                foreach (var (k, v) in meta)
                    metadata[k] = v is JsonValue s && s.TryGetValue<string>(out var text) ? text
                        : throw new InvalidDataException($"its {MetadataKey} entry {k} is not a string");
                continue;
            }
            if (node is not JsonObject entry) throw new InvalidDataException($"its header entry {name} is not an object");
            var dtype = entry["dtype"] is JsonValue d && d.TryGetValue<string>(out var ds) ? ds : throw new InvalidDataException($"tensor {name} has no dtype");
            if (!ElementSizes.TryGetValue(dtype, out var size))
                throw new InvalidDataException($"tensor {name} has dtype {dtype}, which Hypha does not read ({string.Join(", ", ElementSizes.Keys)})");
            var shape = Longs(entry["shape"], name, "shape");
            var offsets = Longs(entry["data_offsets"], name, "data_offsets");
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength)
                throw new InvalidDataException($"tensor {name}'s bytes [{string.Join(", ", offsets)}] lie outside the file's {dataLength} data bytes (truncated?)");
            var numel = shape.Aggregate(1L, (a, b) => b < 0 ? throw new InvalidDataException($"tensor {name} has a negative size") : a * b);
            if (numel * size != offsets[1] - offsets[0])
                throw new InvalidDataException($"tensor {name} is {dtype} [{string.Join(", ", shape)}], {numel * size} bytes, but its range holds {offsets[1] - offsets[0]}");
            ranges.Add((offsets[0], offsets[1], name));
        }
        ranges.Sort();
        for (var i = 1; i < ranges.Count; i++)
            if (ranges[i].Start < ranges[i - 1].End) throw new InvalidDataException($"tensors {ranges[i - 1].Name} and {ranges[i].Name} overlap");
        return metadata;
    }

    static long[] Longs(JsonNode? node, string name, string field)
    {
        if (node is not JsonArray a) throw new InvalidDataException($"tensor {name} has no {field} list");
        return a.Select(v => v is JsonValue x && x.TryGetValue<long>(out var l) ? l : throw new InvalidDataException($"tensor {name}'s {field} is not a list of integers")).ToArray();
    }
}
