using Hypha.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Training;

/// <summary>
/// The second network of an <see cref="IAuxiliaryModel"/> (a VAE's patch discriminator) with its own Adam
/// (<see cref="FlatAdam"/>: every parameter of it gets a gradient at every one of its steps): steps it on the
/// objective the model hands over with a batch (<see cref="LossTerms.Auxiliary"/>), and writes and reads its weights
/// and optimizer state for the checkpoint's <see cref="Section"/> section. The trainer knows nothing else about it.
/// </summary>
public sealed class AuxiliaryTraining : IDisposable
{
    /// <summary>The checkpoint section that holds the network and its optimizer state.</summary>
    public const string Section = "auxiliary";

    readonly nn.Module _net;
    readonly FlatAdam _adam;
    readonly double _lr;

    /// <summary>What the network is, for messages.</summary>
    public string Name { get; }

    AuxiliaryTraining(nn.Module net, string name, AuxiliaryOptimizerSettings settings, double runLr)
    {
        _net = net;
        Name = name;
        _lr = settings.Lr ?? runLr;
        _adam = new FlatAdam(net.parameters(), _lr, settings.Beta1, settings.Beta2);
    }

    /// <summary>
    /// The second network's training for <paramref name="model"/>, or null when it has none: the network moved to
    /// <paramref name="device"/> (convolution weights channels-last when <paramref name="channelsLast"/>, as the
    /// model's), then its optimizer. <paramref name="runLr"/> is the learning rate when the model names none.
    /// </summary>
    public static AuxiliaryTraining? For(IGenerativeModel model, double runLr, Device device, bool channelsLast)
    {
        if (model.As<IAuxiliaryModel>() is not { Auxiliary: { } net } aux) return null;
        net.to(device);
        net.train();
        if (channelsLast) Models.Layers.Autocast.StoreChannelsLast(net);
        return new AuxiliaryTraining(net, aux.AuxiliaryName, aux.AuxiliaryOptimizer, runLr);
    }

    /// <summary>One step of the network on <paramref name="loss"/> at <paramref name="lrScale"/> times its learning
    /// rate (the run's schedule); returns its reported terms. A NaN or infinite objective is reported and not stepped
    /// on (the model's own steps count bad losses).</summary>
    public Dictionary<string, double> Step(Func<LossTerms> loss, double lrScale)
    {
        var terms = loss();
        if (float.IsFinite(terms.Objective.item<float>()))
        {
            _adam.LearningRate = _lr * lrScale;
            _adam.ZeroGrad();
            terms.Objective.backward();
            _adam.Step();
        }
        return terms.Values();
    }

    /// <summary>False when any weight of the network is NaN or infinite.</summary>
    public bool WeightsFinite() => _adam.WeightsFinite();

    /// <summary>Writes the network's state dict and its optimizer's kind and state.</summary>
    public void Save(BinaryWriter w)
    {
        StateDictFile.Write(w, _net);
        w.Write(_adam.Kind);
        _adam.Save(w);
    }

    /// <summary>Reads what <see cref="Save"/> wrote; <see cref="InvalidDataException"/> when it does not fit.</summary>
    public void Load(BinaryReader r)
    {
        StateDictFile.Read(r, _net);
        var kind = r.ReadString();
        if (kind != _adam.Kind) throw new InvalidDataException($"the {Name}'s optimizer state is {kind}, but this run uses {_adam.Kind}");
        _adam.Load(r);
    }

    public void Dispose() => _adam.Dispose();
}
