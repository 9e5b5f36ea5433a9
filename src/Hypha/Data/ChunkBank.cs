using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Data;

/// <summary>
/// The normalized images resident on the training device, stacked into one tall [C, sum H, max W] tensor, and a
/// strided view of it in which every chunk origin is an element. A batch is then one gather by (row, column)
/// index on the device: no per-chunk host copies, no chunk ever materialized outside a batch.
/// </summary>
public sealed class ChunkBank : IDisposable
{
    readonly Tensor _tall;
    readonly Tensor _view;
    readonly int[] _rowOffset;
    readonly Device _device;

    /// <summary>Chunk side in pixels.</summary>
    public int Size { get; }
    public int Channels { get; }

    public ChunkBank(PreparedData data, Device device)
    {
        Size = data.ChunkSize;
        Channels = data.Channels;
        _device = device;
        var images = data.Images;
        int width = images.Max(i => i.Width);
        long height = images.Sum(i => (long)i.Height);
        _rowOffset = new int[images.Count];
        var host = new float[Channels * height * width];
        long row = 0;
        for (var k = 0; k < images.Count; k++)
        {
            var img = images[k];
            _rowOffset[k] = (int)row;
            for (var c = 0; c < Channels; c++)
            for (var y = 0; y < img.Height; y++)
                Array.Copy(img.Data, (long)c * img.Width * img.Height + (long)y * img.Width,
                    host, c * height * width + (row + y) * width, img.Width);
            row += img.Height;
        }
        using (var cpu = tensor(host, [Channels, height, width]))
            _tall = cpu.to(device).DetachFromDisposeScope();
        // view[r, x, c, i, j] = tall[c, r + i, x + j]: every (row, column) is a chunk origin.
        _view = _tall.as_strided(
            [height - Size + 1, width - Size + 1, Channels, Size, Size],
            [width, 1, height * width, width, 1]).DetachFromDisposeScope();
    }

    /// <summary>Cuts the chunks into a new [B, C, Size, Size] tensor on the bank's device.</summary>
    public Tensor Cut(IReadOnlyList<ChunkRef> chunks, int start = 0, int count = -1)
    {
        if (count < 0) count = chunks.Count - start;
        var rows = new long[count];
        var cols = new long[count];
        for (var i = 0; i < count; i++)
        {
            var c = chunks[start + i];
            rows[i] = _rowOffset[c.Image] + c.Y;
            cols[i] = c.X;
        }
        using var r = tensor(rows, device: _device);
        using var x = tensor(cols, device: _device);
        return _view.index(TensorIndex.Tensor(r), TensorIndex.Tensor(x));
    }

    /// <summary>Cuts chunks at the positions given by <paramref name="order"/> (indices into <paramref name="chunks"/>).</summary>
    public Tensor Cut(IReadOnlyList<ChunkRef> chunks, ReadOnlySpan<int> order)
    {
        var picked = new ChunkRef[order.Length];
        for (var i = 0; i < order.Length; i++) picked[i] = chunks[order[i]];
        return Cut(picked);
    }

    public void Dispose()
    {
        _view.Dispose();
        _tall.Dispose();
    }
}
