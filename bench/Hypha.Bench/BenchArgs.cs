namespace Hypha.Bench;

/// <summary>Command line of hypha-bench: <c>--mode train|phases|sample|decode|data|pack|diffusion|vae-losses --chunk 64 --batch 32 ...</c>.</summary>
public sealed record BenchArgs(string Mode, int Chunk, int Batch, int Width, int Latent, int Steps, int Warmup, int Threads, string Device, string Images, string Precision, string Layout, string Optimizer, string Out,
    int[] Mult, int ResBlocks, int[] Attn, int Samples, int SampleSteps)
{
    static int[] Ints(string s) => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();

    public static BenchArgs Parse(string[] args)
    {
        var map = new Dictionary<string, string>();
        for (var i = 0; i + 1 < args.Length; i += 2) map[args[i].TrimStart('-')] = args[i + 1];
        string S(string k, string d) => map.GetValueOrDefault(k, d);
        int I(string k, int d) => int.Parse(S(k, d.ToString()));
        return new BenchArgs(S("mode", "train"), I("chunk", 64), I("batch", 32), I("width", 64), I("latent", 256), I("steps", 10), I("warmup", 2),
            I("threads", 0), S("device", "cpu"), S("images", Path.Combine("..", "shared", "data", "amf_ink_roots")),
            S("precision", "fp32"), S("layout", "auto"), S("optimizer", "flat"), S("out", "images.imagepack"),
            Ints(S("mult", "1,2,2,4")), I("res-blocks", 2), Ints(S("attn", "8")), I("samples", 64), I("sample-steps", 50));
    }
}
