using Hypha.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models.Perceptual;

/// <summary>
/// A convolutional ONNX graph run as TorchSharp operations, frozen and differentiable with respect to its input: each
/// node becomes the TorchSharp op of the same definition with the graph's own weights and attributes (kernel, stride,
/// dilation, group, and pads, asymmetric ones included: the CNTK export of ResNet18.onnx pads its stride-2 layers by 1
/// before and 0 after). A BatchNormalization that alone consumes a Conv's output is folded into that convolution
/// (w' = w g / sqrt(v + eps), b' = (b - m) g / sqrt(v + eps) + beta, computed in float64), which is exact in real
/// arithmetic and saves one op per layer in the forward and backward passes. Operators: Conv, BatchNormalization,
/// Relu, MaxPool, AveragePool, Add; any other is refused when the graph is loaded. Weights live on the CPU and are
/// copied once per device and <see cref="Autocast"/> policy they are used with (a bf16 run computes in bf16).
/// </summary>
public sealed class OnnxConvNet : IDisposable
{
    abstract record Step(string[] Inputs, string Output);
    sealed record ConvStep(string[] Inputs, string Output, string Weight, string Bias, long[] Strides, long[] Pads, long[] Dilations, long Groups) : Step(Inputs, Output);
    sealed record NormStep(string[] Inputs, string Output, string Scale, string Shift) : Step(Inputs, Output);
    sealed record ReluStep(string[] Inputs, string Output) : Step(Inputs, Output);
    sealed record AddStep(string[] Inputs, string Output) : Step(Inputs, Output);
    sealed record PoolStep(string[] Inputs, string Output, bool Max, long[] Kernel, long[] Strides, long[] Pads, bool CountPad) : Step(Inputs, Output);

    readonly List<Step> _steps = [];
    readonly Dictionary<string, Tensor> _weights = [];
    readonly Dictionary<(DeviceType, int, Autocast.Policy), Dictionary<string, Tensor>> _copies = [];

    /// <summary>The graph's input value name.</summary>
    public string Input { get; }

    /// <summary>The graph's nodes, as read (for locating the values to tap).</summary>
    public IReadOnlyList<OnnxNode> Nodes { get; }

    /// <summary>Compiles <paramref name="graph"/>; <see cref="InvalidDataException"/> naming the first node it cannot run.</summary>
    public OnnxConvNet(OnnxGraph graph)
    {
        if (graph.Inputs.Count != 1) throw new InvalidDataException($"the graph has {graph.Inputs.Count} inputs, not one");
        Input = graph.Inputs[0];
        Nodes = graph.Nodes;
        var consumers = graph.Nodes.SelectMany(n => n.Inputs).GroupBy(v => v).ToDictionary(g => g.Key, g => g.Count());
        var folded = new HashSet<OnnxNode>();
        using var scope = NewDisposeScope();
        foreach (var node in graph.Nodes)
        {
            if (folded.Contains(node)) continue;
            switch (node.Op)
            {
                case "Conv":
                {
                    var w = Initializer(graph, node, 1);
                    Tensor weight = tensor(w.Values, w.Dims, ScalarType.Float64);
                    Tensor bias = node.Inputs.Length > 2 && node.Inputs[2] != "" ? Vector(graph, node, 2) : zeros(w.Dims[0], ScalarType.Float64);
                    var output = node.Outputs[0];
                    var norm = consumers.GetValueOrDefault(output) == 1 ? graph.Nodes.FirstOrDefault(n => n.Op == "BatchNormalization" && n.Inputs[0] == output) : null;
                    if (norm is not null && norm.Inputs.Skip(1).All(graph.Initializers.ContainsKey))
                    {
                        var (scale, shift) = NormAffine(graph, norm);
                        weight = weight * scale.view(-1, 1, 1, 1);
                        bias = bias * scale + shift;
                        output = norm.Outputs[0];
                        folded.Add(norm);
                    }
                    var kernel = node.Ints("kernel_shape", [w.Dims[2], w.Dims[3]]);
                    if (kernel.Length != 2 || kernel[0] != w.Dims[2] || kernel[1] != w.Dims[3])
                        throw Unsupported(node, $"kernel_shape [{string.Join(", ", kernel)}] does not match its weight");
                    RefuseAutoPad(node);
                    _steps.Add(new ConvStep([node.Inputs[0]], output, Keep(node.Name + ".weight", weight), Keep(node.Name + ".bias", bias),
                        node.Ints("strides", [1, 1]), Pads(node), node.Ints("dilations", [1, 1]), node.Int("group", 1)));
                    break;
                }
                case "BatchNormalization":
                {
                    var (scale, shift) = NormAffine(graph, node);
                    _steps.Add(new NormStep([node.Inputs[0]], node.Outputs[0], Keep(node.Name + ".scale", scale), Keep(node.Name + ".shift", shift)));
                    break;
                }
                case "Relu": _steps.Add(new ReluStep([node.Inputs[0]], node.Outputs[0])); break;
                case "Add": _steps.Add(new AddStep([node.Inputs[0], node.Inputs[1]], node.Outputs[0])); break;
                case "MaxPool" or "AveragePool":
                {
                    RefuseAutoPad(node);
                    if (node.Int("ceil_mode", 0) != 0) throw Unsupported(node, "ceil_mode");
                    var pads = Pads(node);
                    var max = node.Op == "MaxPool";
                    if (!max && (pads[0] != pads[2] || pads[1] != pads[3])) throw Unsupported(node, "asymmetric pads");
                    var kernel = node.Ints("kernel_shape", []);
                    if (kernel.Length != 2) throw Unsupported(node, "a kernel that is not 2-d");
                    _steps.Add(new PoolStep([node.Inputs[0]], node.Outputs[0], max, kernel, node.Ints("strides", [1, 1]), pads, node.Int("count_include_pad", 0) != 0));
                    break;
                }
                default: throw Unsupported(node, "its operator");
            }
        }
    }

    /// <summary>
    /// Runs the graph on <paramref name="x"/> [B, C, H, W] (on any device) up to the last of <paramref name="wanted"/>
    /// and returns those values, in the order asked, in the dtype of the compute policy. Gradients flow to
    /// <paramref name="x"/>; the weights never require them.
    /// </summary>
    public Tensor[] Run(Tensor x, IReadOnlyList<string> wanted)
    {
        var missing = wanted.Where(w => w != Input && _steps.All(s => s.Output != w)).ToList();
        if (missing.Count > 0) throw new ArgumentException($"the graph computes no value named {string.Join(", ", missing)}", nameof(wanted));
        var policy = Autocast.Current;
        var weights = WeightsFor(x.device, policy);
        var values = new Dictionary<string, Tensor> { [Input] = x };
        var left = new HashSet<string>(wanted.Where(w => w != Input));
        foreach (var step in _steps)
        {
            if (left.Count == 0) break;
            var a = values[step.Inputs[0]];
            values[step.Output] = step switch
            {
                ConvStep c => Conv(policy.Activation(a), weights[c.Weight], weights[c.Bias], c),
                NormStep n => a * weights[n.Scale].view(1, -1, 1, 1) + weights[n.Shift].view(1, -1, 1, 1),
                ReluStep => nn.functional.relu(a),
                AddStep => a + values[step.Inputs[1]],
                PoolStep p => Pool(a, p),
                _ => throw new InvalidOperationException(step.GetType().Name),
            };
            left.Remove(step.Output);
        }
        return wanted.Select(w => values[w]).ToArray();
    }

    static Tensor Conv(Tensor x, Tensor weight, Tensor bias, ConvStep c)
    {
        // ONNX pads are [top, left, bottom, right]; TorchSharp's conv pads both sides alike, so uneven ones are padded first.
        var p = c.Pads;
        var even = p[0] == p[2] && p[1] == p[3];
        if (!even) x = nn.functional.pad(x, [p[1], p[3], p[0], p[2]]);
        var y = nn.functional.conv2d(x, weight, bias, strides: c.Strides, padding: even ? [p[0], p[1]] : [0, 0], dilation: c.Dilations, groups: c.Groups);
        return Autocast.Current.ChannelsLast ? Autocast.ToChannelsLast(y) : y;
    }

    static Tensor Pool(Tensor x, PoolStep p)
    {
        if (!p.Max)
            return nn.functional.avg_pool2d(x, p.Kernel, p.Strides, [p.Pads[0], p.Pads[1]], ceil_mode: false, count_include_pad: p.CountPad);
        var pads = p.Pads;
        if (pads[0] == pads[2] && pads[1] == pads[3]) return nn.functional.max_pool2d(x, p.Kernel, p.Strides, [pads[0], pads[1]]);
        // Padding with -inf never wins a max, as ONNX's MaxPool pads.
        var padded = nn.functional.pad(x, [pads[1], pads[3], pads[0], pads[2]], PaddingModes.Constant, double.NegativeInfinity);
        return nn.functional.max_pool2d(padded, p.Kernel, p.Strides);
    }

    Dictionary<string, Tensor> WeightsFor(Device device, Autocast.Policy policy)
    {
        var key = (device.type, device.index, policy);
        if (_copies.TryGetValue(key, out var copy)) return copy;
        copy = [];
        using (no_grad())
            foreach (var (name, w) in _weights)
            {
                var moved = w.to(device);
                var cast = w.dim() == 4 ? policy.Weight(moved) : moved.to_type(policy.Dtype);
                // A new handle even where nothing had to change, so the copies dispose apart from the originals.
                copy[name] = (ReferenceEquals(cast, w) ? w.alias() : cast).DetachFromDisposeScope();
            }
        _copies[key] = copy;
        return copy;
    }

    string Keep(string name, Tensor value)
    {
        _weights[name] = value.to_type(ScalarType.Float32).contiguous().DetachFromDisposeScope();
        return name;
    }

    static (Tensor Scale, Tensor Shift) NormAffine(OnnxGraph graph, OnnxNode node)
    {
        if (node.Inputs.Length != 5) throw Unsupported(node, "a BatchNormalization without scale, bias, mean and variance");
        var eps = node.Float("epsilon", 1e-5f);
        var gamma = Vector(graph, node, 1);
        var beta = Vector(graph, node, 2);
        var mean = Vector(graph, node, 3);
        var variance = Vector(graph, node, 4);
        var scale = gamma / (variance + eps).sqrt();
        return (scale, beta - mean * scale);
    }

    static Tensor Vector(OnnxGraph graph, OnnxNode node, int input)
    {
        var t = Initializer(graph, node, input);
        return tensor(t.Values, [t.Values.Length], ScalarType.Float64);
    }

    static OnnxTensor Initializer(OnnxGraph graph, OnnxNode node, int input) =>
        input < node.Inputs.Length && graph.Initializers.TryGetValue(node.Inputs[input], out var t)
            ? t
            : throw Unsupported(node, $"input {input} is not a stored weight");

    static long[] Pads(OnnxNode node)
    {
        var pads = node.Ints("pads", [0, 0, 0, 0]);
        return pads.Length == 4 ? pads : throw Unsupported(node, $"pads of length {pads.Length}");
    }

    static void RefuseAutoPad(OnnxNode node)
    {
        if (node.Text("auto_pad", "NOTSET") is not ("NOTSET" or "VALID")) throw Unsupported(node, $"auto_pad {node.Text("auto_pad", "")}");
    }

    static InvalidDataException Unsupported(OnnxNode node, string what) =>
        new($"ONNX node {node.Name} ({node.Op}): {what} is not supported");

    public void Dispose()
    {
        foreach (var copy in _copies.Values)
            foreach (var t in copy.Values) t.Dispose();
        _copies.Clear();
        foreach (var t in _weights.Values) t.Dispose();
        _weights.Clear();
    }
}
