using Vexlab.Checking.Engine;
using Vexlab.Checking.Models;
using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Protocols;

namespace Vexlab.Checking.Tests.Models;

/// <summary>Verdicts that hang on one kernel path; docs/kvm-facts.md has the sources.</summary>
public sealed class KernelPathVerdictTests
{
    /// <summary>
    /// kvm_cpu_down_prepare runs kvm_guest_cpu_offline with interrupts off, as this model file's
    /// "cli; apf-disable; sti" does. A page-ready raised in that window is taken after
    /// kvm_pv_disable_apf cleared apf_reason.enabled, and sysvec_kvm_asyncpf_interrupt
    /// (b1d405751cd5) then reads no token: no dummy node is left behind under any interleaving.
    /// </summary>
    [Theory]
    [InlineData("cli; apf-disable; sti", "no-stale-dummies")]
    [InlineData("cli; apf-disable; sti", "no-lost-wakeup")]
    [InlineData("apf-disable", "no-stale-dummies")]
    public void CpuOfflineWithInterruptsOff_Passes(string offline, string property)
    {
        var yaml = $"vcpus: 1\npages: 1\nhost_absent: [0]\ntasks:\n  - {{name: a, mode: user, program: \"touch 0\"}}\n  - {{name: offline, mode: kernel, program: \"{offline}\"}}\n";
        var request = CheckRequest.ForFile(ModelFile.Parse(yaml, "offline.yaml"), "kvm-pf-int", [], [property]);
        var outcome = ModelCheck.Run(request, new CheckerOptions { Workers = 1, TimeLimit = TimeSpan.FromSeconds(60) });
        Assert.True(outcome.Result.Verdict == Verdict.Pass, string.Join(", ", outcome.Violations.Select(v => v.Violation.Property)));
    }

    /// <summary>
    /// The built-in cpu-offline model's offline path is kvm_cpu_down_prepare's: interrupts off around
    /// kvm_pv_disable_apf and apf_task_wake_all. Its page-ready interrupt can then arrive with
    /// apf_reason.enabled clear, and only the handler's test of that flag (b1d405751cd5) keeps the
    /// sleep table free of dummies: without it this check finds a 30-step violation.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf-int")]
    [InlineData("kvm-pf")]
    public void BuiltinCpuOffline_DisablesApfWithInterruptsOff_LeavesNoDummy(string protocol)
    {
        var config = BuiltinModels.Get("cpu-offline").Configure(ProtocolCatalog.Create(protocol), ExternalBounds.None);
        var offline = config.Tasks.Single(t => t.Name == "offline").Program.Code.Select(i => i.Op).ToArray();
        Assert.Equal([MicroOp.Cli, MicroOp.ApfDisable, MicroOp.Sti], offline[..3]);
        var outcome = ModelCheck.Run(CheckRequest.Of("cpu-offline", protocol, ["no-stale-dummies"]), new CheckerOptions { Workers = 1, TimeLimit = TimeSpan.FromSeconds(60) });
        Assert.True(outcome.Result.Verdict == Verdict.Pass, string.Join(", ", outcome.Violations.Select(v => v.Violation.Property)));
    }
}
