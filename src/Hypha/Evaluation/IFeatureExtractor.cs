using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>Maps images to feature vectors, for the feature-space metrics (fd_*, kid, precision, recall, density, coverage).</summary>
public interface IFeatureExtractor
{
    /// <summary>Name of the feature space (e.g. "resnet18"); cache key and part of the metric records.</summary>
    string Name { get; }

    /// <summary>Length of a feature vector.</summary>
    int Dimension { get; }

    /// <summary>Features [N, <see cref="Dimension"/>] float32 on CPU of images [N, C, H, W] in [0, 1].</summary>
    Tensor Extract(Tensor images);
}
