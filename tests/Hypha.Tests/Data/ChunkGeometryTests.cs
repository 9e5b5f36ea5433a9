using Hypha.Data;

namespace Hypha.Tests.Data;

public class ChunkGeometryTests
{
    [Fact]
    public void ThesisImageGives9545Chunks()
    {
        // Thesis section 3.2: a 1536 x 2048 image cut into 224 x 224 chunks at stride 16.
        var g = new ChunkGeometry(224, 16);
        Assert.Equal(83, g.CountAlong(1536));
        Assert.Equal(115, g.CountAlong(2048));
        Assert.Equal(9545, g.CountIn(1536, 2048));
        Assert.Equal(9545, g.CountIn(2048, 1536));
    }

    [Theory]
    [InlineData(224, 224, 16, 1)]
    [InlineData(223, 224, 16, 0)]
    [InlineData(239, 224, 16, 1)]
    [InlineData(240, 224, 16, 2)]
    [InlineData(100, 10, 10, 10)]
    public void CountAlongAnAxis(int length, int size, int stride, int expected) =>
        Assert.Equal(expected, new ChunkGeometry(size, stride).CountAlong(length));

    [Theory]
    [InlineData(64, 0)]
    [InlineData(64, 65)]
    [InlineData(0, 1)]
    public void InvalidGeometryIsAConfigError(int size, int stride)
    {
        var e = Assert.Throws<HyphaException>(() => new ChunkGeometry(size, stride).Validate());
        Assert.Equal(ExitCode.InvalidConfig, e.Code);
    }
}
