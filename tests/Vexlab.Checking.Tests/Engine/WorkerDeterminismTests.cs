using Vexlab.Checking.Engine;
using Vexlab.Checking.Models;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>Every built-in model under every protocol gives the same verdicts, counts and traces with 1, 2 and 4 workers.</summary>
public sealed class WorkerDeterminismTests
{
    public static TheoryData<string, string> ModelsAndProtocols()
    {
        var data = new TheoryData<string, string>();
        foreach (var model in BuiltinModels.All.Where(m => m.InMatrix))
        {
            foreach (var protocol in ModelCheck.Protocols)
            {
                data.Add(model.Name, protocol);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ModelsAndProtocols))]
    public void Workers_do_not_change_the_result(string model, string protocol)
    {
        // A state bound keeps the slow combinations short; a run stopped by it is as deterministic as a full one.
        CheckResult Run(int workers) => ModelCheck.Run(
            CheckRequest.Of(model, protocol),
            new CheckerOptions { Workers = workers, MaxStates = 60_000, MaxMemoryBytes = 1L << 30 }).Result;

        CheckResult reference = Run(1);
        foreach (int workers in new[] { 2, 4 })
        {
            CheckResult other = Run(workers);
            CheckerTests.AssertSameResult(reference, other);
            Assert.Equal(reference.LivenessIncomplete, other.LivenessIncomplete);
            for (int i = 0; i < reference.Violations.Count; i++)
            {
                Assert.Equal(reference.Violations[i].ActionIndices, other.Violations[i].ActionIndices);
            }
        }
    }
}
