using Google.Protobuf;
using Hypha.Evaluation;
using Hypha.Models.Perceptual;
using Hypha.Tests.Evaluation;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Tests.Models;

/// <summary>The ResNet-18 that the perceptual loss runs in TorchSharp, built from ResNet18.onnx, against ONNX Runtime
/// running the same file; and the distance itself.</summary>
public sealed class PerceptualTests(Xunit.Abstractions.ITestOutputHelper log)
{
    static ResNet18Perceptual Net => ResNet18Perceptual.Load();

    /// <summary>A copy of an ONNX model whose graph also outputs <paramref name="names"/> (ONNX Runtime returns only
    /// graph outputs): ValueInfoProto entries (field 12 of GraphProto) appended to the graph, every other byte kept.</summary>
    static byte[] WithOutputs(byte[] model, IEnumerable<string> names)
    {
        using var extra = new MemoryStream();
        var e = new CodedOutputStream(extra, leaveOpen: true);
        foreach (var name in names)
        {
            // ValueInfoProto { name = 1; type = 2: TypeProto { tensor_type = 1: { elem_type = 1: FLOAT } } }
            using var info = new MemoryStream();
            var o = new CodedOutputStream(info, leaveOpen: true);
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteString(name);
            o.WriteTag(2, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(0x0A, 0x02, 0x08, 0x01));
            o.Flush();
            e.WriteTag(12, WireFormat.WireType.LengthDelimited);
            e.WriteBytes(ByteString.CopyFrom(info.ToArray()));
        }
        e.Flush();
        using var result = new MemoryStream();
        var output = new CodedOutputStream(result, leaveOpen: true);
        var input = new CodedInputStream(model);
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            output.WriteTag(tag);
            switch (WireFormat.GetTagWireType(tag))
            {
                case WireFormat.WireType.Varint: output.WriteUInt64(input.ReadUInt64()); break;
                case WireFormat.WireType.LengthDelimited:
                    var bytes = input.ReadBytes();
                    output.WriteBytes(WireFormat.GetTagFieldNumber(tag) == 7 ? ByteString.CopyFrom([.. bytes.Span, .. extra.ToArray()]) : bytes);
                    break;
                case WireFormat.WireType.Fixed32: output.WriteFixed32(input.ReadFixed32()); break;
                case WireFormat.WireType.Fixed64: output.WriteFixed64(input.ReadFixed64()); break;
                default: throw new InvalidDataException("unexpected wire type");
            }
        }
        output.Flush();
        return result.ToArray();
    }

    [Fact]
    public void TorchSharp_ResNet18_gives_the_features_of_ONNX_Runtime_on_real_chunks()
    {
        using var scope = NewDisposeScope();
        var net = Net;
        // Real chunks (two gray, one RGB) brought to the featurizer's 224x224 0..255 input, then through ResNetPreprocess.onnx.
        var images = cat([TestImages.AmfChunks[40..42].expand(-1, 3, -1, -1), TestImages.AmfRgbChunks()[..1]]);
        var raw = ResNet18Featurizer.Preprocess(images);
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var prep = new InferenceSession(ResNet18Perceptual.PreprocessPath(), options);
        var taps = net.StageValues.Concat(["Pooling395_Output_0"]).ToArray();
        using var ort = new InferenceSession(WithOutputs(File.ReadAllBytes(ResNet18Perceptual.NetworkPath()), net.StageValues), options);
        using var runOptions = new RunOptions();
        for (var i = 0; i < images.shape[0]; i++)
        {
            var pixels = raw[i].contiguous().data<float>().ToArray();
            using var input = OrtValue.CreateTensorValueFromMemory(pixels, [1, 3, 224, 224]);
            using var prepared = prep.Run(runOptions, ["OriginalInput"], [input], ["PreprocessedInput"]);
            var preparedValues = prepared[0].GetTensorDataAsSpan<float>().ToArray();
            using var expected = ort.Run(runOptions, ["Input247"], [prepared[0]], taps);
            var actual = net.Network.Run(tensor(preparedValues, [1, 3, 224, 224]), taps);
            for (var t = 0; t < taps.Length; t++)
            {
                var want = expected[t].GetTensorDataAsSpan<float>().ToArray();
                var got = actual[t].contiguous().data<float>().ToArray();
                Assert.Equal(want.Length, got.Length);
                var maxDiff = want.Zip(got, (a, b) => Math.Abs(a - b)).Max();
                var scale = want.Max(Math.Abs);
                log.WriteLine($"image {i} {taps[t]}: max difference {maxDiff:G3}, largest value {scale:G3}");
                Assert.True(scale > 0.1, $"{taps[t]} is all zero");
                // 1e-4, or 2e-5 of the stage's largest value where that is more: both sides sum in float32 with
                // kernels chosen per CPU, so rounding grows with the values. Measured: under 1e-4 everywhere on an
                // AVX-512 Zen 4; on an AVX2-only AMD EPYC up to 1.5e-4 at a largest value of 51, at most 1.1e-5 of it.
                var tolerance = Math.Max(1e-4, 2e-5 * scale);
                Assert.True(maxDiff <= tolerance, $"image {i}, {taps[t]}: max |ONNX Runtime - TorchSharp| = {maxDiff:G3} (largest value {scale:G3}, tolerance {tolerance:G3})");
            }
        }
    }

    [Fact]
    public void The_stages_are_the_ResNet18_stem_and_stages_with_their_channels_and_sides()
    {
        using var scope = NewDisposeScope();
        var f = Net.Features(TestImages.AmfChunks[40..42], [0, 1, 2, 3, 4]);
        Assert.Equal([64, 64, 128, 256, 512], f.Select(t => t.shape[1]));
        Assert.Equal([32, 16, 8, 4, 2], f.Select(t => t.shape[2]));
        // The mean subtracted is the featurizer's mean image averaged per channel: ImageNet's BGR mean, about 104/117/123.
        Assert.InRange(Net.MeanBgr[0], 100, 108);
        Assert.InRange(Net.MeanBgr[2], 119, 127);
    }

    [Fact]
    public void Distance_is_zero_for_equal_images_grows_with_blur_and_has_a_finite_gradient()
    {
        using var scope = NewDisposeScope();
        var x = TestImages.AmfChunks[40..44];
        int[] stages = [0, 1, 2, 3, 4];
        var same = Net.Distance(x, x, stages);
        Assert.True(same.abs().max().item<float>() < 1e-6);
        var blur1 = nn.functional.avg_pool2d(x, 3, 1, 1, count_include_pad: false);
        var blur2 = nn.functional.avg_pool2d(x, 7, 1, 3, count_include_pad: false);
        var d1 = Net.Distance(blur1, x, stages);
        var d2 = Net.Distance(blur2, x, stages);
        Assert.True((d2 > d1).all().item<bool>(), $"stronger blur is not farther: {d1.mean().item<float>()} vs {d2.mean().item<float>()}");
        var y = blur2.detach().requires_grad_(true);
        Net.Distance(y, x, stages).sum().backward();
        Assert.True(y.grad!.isfinite().all().item<bool>());
        Assert.True(y.grad!.abs().max().item<float>() > 0);
        // Sides that are not a multiple of 32 (a progressive VAE's 56) are resized up and still give a distance.
        var small = nn.functional.interpolate(x, [56, 56], mode: InterpolationMode.Area);
        Assert.True(Net.Distance(small, small.flip(-1), stages).min().item<float>() > 0);
    }
}
