using Hypha.Torch;

namespace Hypha.Tests.Torch;

/// <summary>The autotuner flag is reached through libtorch's exported C++ symbols; the flag lives in libtorch's global
/// context whether or not a GPU is present, so setting and reading it back is tested on the CPU build.</summary>
public class CudnnAutotunerTests
{
    [Fact]
    public void Loading_libtorch_turns_it_on_and_it_can_be_switched()
    {
        TorchBackend.EnsureLoaded();
        Assert.True(CudnnAutotuner.Enabled());
        try
        {
            Assert.True(CudnnAutotuner.TrySet(false));
            Assert.False(CudnnAutotuner.Enabled());
        }
        finally
        {
            Assert.True(CudnnAutotuner.TrySet(true));
        }
        Assert.True(CudnnAutotuner.Enabled());
    }
}
