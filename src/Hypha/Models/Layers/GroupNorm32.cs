using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Models.Layers;

/// <summary>
/// GroupNorm (eps 1e-5, affine, <c>weight</c> and <c>bias</c> as <c>torch.nn.GroupNorm</c>) that always computes in
/// fp32: under a bf16 <see cref="Layers.Autocast"/> policy the input is widened, normalized with the fp32 parameters and
/// narrowed back to the input's dtype (as PyTorch's autocast runs group_norm in fp32).
/// </summary>
public sealed class GroupNorm32 : Module<Tensor, Tensor>
{
    readonly Parameter weight, bias;

    /// <summary>Number of groups.</summary>
    public long Groups { get; }

    public GroupNorm32(long channels) : base("GroupNorm")
    {
        Groups = GroupsFor(channels);
        weight = new Parameter(ones(channels));
        bias = new Parameter(zeros(channels));
        RegisterComponents();
    }

    /// <summary>The largest g in (32, 16, 8, 4, 2, 1) with channels % g == 0 and channels / g &gt;= 4 (1 if none).</summary>
    public static long GroupsFor(long channels)
    {
        foreach (var g in new long[] { 32, 16, 8, 4, 2, 1 })
            if (channels % g == 0 && channels / g >= 4) return g;
        return 1;
    }

    public override Tensor forward(Tensor x)
    {
        if (x.dtype == ScalarType.Float32) return nn.functional.group_norm(x, Groups, weight, bias, 1e-5);
        using var scope = NewDisposeScope();
        var y = nn.functional.group_norm(x.to_type(ScalarType.Float32), Groups, weight, bias, 1e-5).to_type(x.dtype);
        return y.MoveToOuterDisposeScope();
    }
}
