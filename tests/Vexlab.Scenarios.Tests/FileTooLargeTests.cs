using Vexlab.Scenarios.Files;

namespace Vexlab.Scenarios.Tests;

/// <summary>
/// EFBIG reaches .NET code as an ArgumentOutOfRangeException on "value" from the runtime's write; the same exception from
/// any property setter is a bug, not a full output, and must not be said as "File too large" with exit 74. The real
/// EFBIG paths (a trace file and standard output past <c>ulimit -f</c>) are run in FileSizeLimitSignalTests.
/// </summary>
public sealed class FileTooLargeTests
{
    [Fact]
    public void A_setter_out_of_range_is_not_a_file_too_large()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new MemoryStream().Position = -1);
        Assert.Equal("value", e.ParamName);
        Assert.False(OutputFile.IsFileTooLarge(e));
        Assert.False(OutputFile.IsWriteFailure(e));
    }

    [Fact]
    public void A_value_argument_thrown_by_vexlab_code_is_not_a_file_too_large()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Set(-1));
        Assert.False(OutputFile.IsFileTooLarge(e));
    }

    [Fact]
    public void An_exception_never_thrown_is_not_a_file_too_large() =>
        Assert.False(OutputFile.IsFileTooLarge(new ArgumentOutOfRangeException("value")));

    private static void Set(int value) => ArgumentOutOfRangeException.ThrowIfNegative(value);
}
