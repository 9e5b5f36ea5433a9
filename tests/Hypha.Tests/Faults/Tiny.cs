namespace Hypha.Tests.Faults;

/// <summary>The smallest useful run: a real image, 32-pixel chunks, a width-4 ResNet VAE with latent 8, a few steps.</summary>
public static class Tiny
{
    public static string Image => SharedData.Path("skimage_debian", "cell.png");

    /// <summary>train options for a tiny run on <see cref="Image"/>; <paramref name="extra"/> options replace the defaults of the same name.</summary>
    public static string[] TrainArgs(string run, params string[] extra) => TrainOn([Image], run, extra);

    public static string[] TrainOn(string[] images, string run, params string[] extra)
    {
        var options = new List<(string Name, string Value)>
        {
            ("--preset", "cpu"), ("--chunk", "32"), ("--stride", "16"), ("--width", "4"), ("--latent", "8"), ("--epochs", "1"),
            ("--epoch-size", "64"), ("--batch", "16"), ("--threads", "1"), ("--device", "cpu"), ("--run", run),
        };
        var flags = new List<string>();
        for (var i = 0; i < extra.Length; i++)
        {
            if (i + 1 < extra.Length && !extra[i + 1].StartsWith("--"))
            {
                var name = extra[i];
                options.RemoveAll(o => o.Name == name);
                options.Add((name, extra[++i]));
            }
            else flags.Add(extra[i]);
        }
        return ["train", "--images", .. images, .. options.SelectMany(o => new[] { o.Name, o.Value }), .. flags];
    }

    /// <summary>Trains a tiny run in-process and returns its folder.</summary>
    public static string Train(string run, params string[] extra)
    {
        var r = Cli.Run(TrainArgs(run, extra));
        Assert.True(r.Code == 0, r.ToString());
        return run;
    }
}
