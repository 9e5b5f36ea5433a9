using Hypha.Evaluation;
using static TorchSharp.torch;

namespace Hypha.Tests.Evaluation;

public class MemorizationTests
{
    [Fact]
    public void Copied_training_chunks_are_flagged_and_paired()
    {
        using var scope = NewDisposeScope();
        var chunks = TestImages.AmfChunks;
        var train = chunks[..70];
        int[] copied = [3, 17, 42, 55, 68];
        var copies = train.index_select(0, tensor(copied.Select(i => (long)i).ToArray()));
        var fresh = TestImages.Smooth(20, 1, 64, 8);
        using var inputs = new EvaluationInputs
        {
            TrainReal = train, TestRealA = chunks[70..100], TestRealB = chunks[100..130], Samples = cat([fresh, copies], 0),
        };
        var r = new MemorizationMetric { PairsReturned = 5 }.Compute(inputs);
        Assert.True(r.Value >= 5 / 25.0, $"flagged {r.Value}");
        Assert.True(r.Value <= 6 / 25.0, $"flagged {r.Value}");
        Assert.Equal(5, r.ClosestPairs!.Count);
        Assert.Equal(Enumerable.Range(20, 5), r.ClosestPairs.Select(p => p.SampleIndex).Order());
        Assert.All(r.ClosestPairs, p => Assert.Equal(copied[p.SampleIndex - 20], p.TrainIndex));
        Assert.All(r.ClosestPairs, p => Assert.True(p.Distance < 1e-6));
        Assert.InRange(r.Floor!.Value, 0, 0.3);
        Assert.True(r.Values["threshold"] > 0);
    }

    [Fact]
    public void Held_out_chunks_as_samples_are_rarely_flagged()
    {
        using var scope = NewDisposeScope();
        var chunks = TestImages.AmfChunks;
        using var inputs = new EvaluationInputs
        {
            TrainReal = chunks[..70], TestRealA = chunks[70..100], TestRealB = chunks[100..130], Samples = chunks[100..130],
        };
        var r = new MemorizationMetric().Compute(inputs);
        Assert.Equal(r.Floor, r.Value);  // samples are test half B itself
        Assert.True(r.Value < 0.25, $"flagged {r.Value}");
    }

    [Fact]
    public void Nearest_neighbours_match_brute_force()
    {
        using var scope = NewDisposeScope();
        var q = TestImages.Smooth(7, 1, 16, 1);
        var reference = TestImages.Smooth(23, 1, 16, 2);
        var (d, idx) = NearestNeighbours.Find(q, reference, chunk: 5);
        for (var i = 0; i < 7; i++)
        {
            var all = (reference - q[i]).square().mean([1, 2, 3]).sqrt();
            Assert.Equal(all.argmin().item<long>(), idx[i].item<long>());
            Assert.Equal(all.min().item<float>(), d[i].item<double>(), 5);
        }
    }
}
