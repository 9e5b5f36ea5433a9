using System.Globalization;
using System.Text;
using Hypha.Data;
using Hypha.Imaging;
using Hypha.Models;
using Hypha.Reporting;
using Hypha.Runs;
using static TorchSharp.torch;

namespace Hypha.Sampling;

/// <summary>
/// Writes each chunk and its reconstruction as a named pair (<c>000123_orig.png</c>, <c>000123_recon.png</c>), or
/// with a stack format as two paired TIFF stacks (<c>originals.tif</c>, <c>reconstructions.tif</c>: slice i of each is
/// row i of chunks.csv), side-by-side grids of 50 pairs (<c>grid_000.png</c>...), and <c>chunks.csv</c> (source image,
/// x, y, MSE, PSNR).
/// </summary>
public static class ReconstructionWriter
{
    /// <param name="limit">At most this many chunks (evenly spread over all kept chunks); 0 for all.</param>
    public static int Write(IEncoderModel model, ChunkBank bank, PreparedData data, string outDir, int limit = 0,
        ImageFormat format = ImageFormat.Png8, int batch = 128, bool overwrite = false, Action<int>? progress = null)
    {
        using var output = OutputFolder.Begin(outDir, overwrite);
        var all = data.Index.Train;
        int n = limit > 0 ? Math.Min(limit, all.Count) : all.Count;
        var chunks = Enumerable.Range(0, n).Select(i => all[(int)((long)i * all.Count / n)]).ToList();
        if (format.IsStack()) TiffStackWriter.Check(n, model.Channels, model.Resolution, model.Resolution, format.BitDepth());
        var csv = new StringBuilder("index,image,x,y,mse_per_pixel,psnr\n");
        Tensor? gridOrig = null, gridRecon = null;
        int gridNo = 0, done = 0;
        using var originals = format.IsStack() ? ImageSink.Create(output, "", "", "originals", format, n, model.Channels, model.Resolution) : null;
        using var reconstructions = format.IsStack() ? ImageSink.Create(output, "", "", "reconstructions", format, n, model.Channels, model.Resolution) : null;
        for (var i = 0; i < n; i += batch)
        {
            using var scope = NewDisposeScope();
            int b = Math.Min(batch, n - i);
            var x = ModelInput.Fit(model, bank.Cut(chunks, i, b));
            var xhat = VaeMath.Reconstruct(model, x);
            var mse = (x - xhat).square().flatten(1).mean([1]).to(CPU).data<float>().ToArray();
            var xc = x.to(CPU);
            var rc = xhat.to(CPU);
            var (po, pr) = (ImageEncoding.BatchPixels(xc, format.BitDepth()), ImageEncoding.BatchPixels(rc, format.BitDepth()));
            int channels = (int)xc.shape[1], side = (int)xc.shape[3];
            for (var k = 0; k < b; k++)
            {
                var id = i + k;
                if (originals is not null)
                {
                    originals.Add(id, po[k], channels, side);
                    reconstructions!.Add(id, pr[k], channels, side);
                }
                else
                {
                    AtomicFile.WriteAllBytes(Path.Combine(outDir, $"{id:D6}_orig{format.Extension()}"), ImageEncoding.Encode(po[k], channels, side, side, format));
                    AtomicFile.WriteAllBytes(Path.Combine(outDir, $"{id:D6}_recon{format.Extension()}"), ImageEncoding.Encode(pr[k], channels, side, side, format));
                }
                var c = chunks[id];
                csv.Append(CultureInfo.InvariantCulture,
                    $"{id},{data.Images[c.Image].Label.Replace(',', ';')},{c.X},{c.Y},{mse[k]:G6},{Psnr.FromMse(mse[k]):F3}\n");
            }
            // Grids of 50 pairs, as the thesis's figures.
            for (var k = 0; k < b; k++)
            {
                gridOrig = gridOrig is null ? xc[k].unsqueeze(0).MoveToOuterDisposeScope() : Append(gridOrig, xc[k]);
                gridRecon = gridRecon is null ? rc[k].unsqueeze(0).MoveToOuterDisposeScope() : Append(gridRecon, rc[k]);
                if (gridOrig.shape[0] == 50 || i + k == n - 1) WriteGrid(outDir, gridNo++, ref gridOrig, ref gridRecon);
            }
            done += b;
            progress?.Invoke(done);
        }
        originals?.Commit();
        reconstructions?.Commit();
        AtomicFile.WriteAllText(Path.Combine(outDir, "chunks.csv"), csv.ToString());
        output.Commit();
        return n;
    }

    static Tensor Append(Tensor stack, Tensor item)
    {
        var next = cat([stack, item.unsqueeze(0)], 0).MoveToOuterDisposeScope();
        stack.Dispose();
        return next;
    }

    static void WriteGrid(string outDir, int number, ref Tensor? orig, ref Tensor? recon)
    {
        using (var grid = ImageGrid.SideBySide(orig!, recon!, columns: 5))
            AtomicFile.WriteAllBytes(Path.Combine(outDir, $"grid_{number:D3}.png"), ImageEncoding.Encode(grid, ImageFormat.Png8));
        orig!.Dispose();
        recon!.Dispose();
        orig = recon = null;
    }
}
