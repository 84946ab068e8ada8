using System.Reflection;
using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>
/// The matrix runs each cell with a copy of the command's options: every setting the command line gave must
/// reach every cell, including settings added after the matrix was written.
/// </summary>
public sealed class CheckerOptionsTests
{
    [Fact]
    public void A_copy_carries_every_setting_and_is_a_separate_object()
    {
        using var cancel = new CancellationTokenSource();
        Action started = () => { };
        var original = new CheckerOptions
        {
            Workers = 3,
            MaxStates = 12_345,
            MaxMemoryBytes = 1L << 33,
            MaxDepth = 77,
            TimeLimit = TimeSpan.FromSeconds(9),
            Fingerprint128 = true,
            Compression = StateCompression.Compact,
            CheckDeadlock = false,
            CheckLiveness = false,
            FrontierMemoryBytes = 1L << 20,
            SpillDirectory = "/spill",
            MaxSpillBytes = 1L << 30,
            CheckpointDirectory = "/checkpoint",
            CheckpointInterval = TimeSpan.FromMinutes(3),
            ResumeDirectory = "/resume",
            CheckpointIdentity = "identity",
            Started = started,
            ProgressInterval = TimeSpan.FromSeconds(7),
            CancellationToken = cancel.Token,
        };

        var copy = original.Copy();
        Assert.NotSame(original, copy);
        var defaults = new CheckerOptions();
        foreach (var p in typeof(CheckerOptions).GetProperties(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            if (p.GetIndexParameters().Length > 0)
            {
                continue;
            }

            Assert.Equal(p.GetValue(original), p.GetValue(copy));
        }

        // The settings above differ from the defaults, so the comparison is not vacuous for them.
        Assert.NotEqual(defaults.MaxStates, copy.MaxStates);
        Assert.NotEqual(defaults.CheckLiveness, copy.CheckLiveness);

        // Changing the copy leaves the original alone (each cell sets its own cancellation and start callback).
        copy.Started = null;
        copy.MaxDepth = 1;
        Assert.Same(started, original.Started);
        Assert.Equal(77, original.MaxDepth);
    }
}
