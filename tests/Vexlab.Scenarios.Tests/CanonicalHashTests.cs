using Vexlab.Scenarios.Documents;
using static Vexlab.Scenarios.Tests.TestSupport;

namespace Vexlab.Scenarios.Tests;

public class CanonicalHashTests
{
    private const string Ordered = "guest:\n  vcpus: 4\n  memory: 8GiB\nhost:\n  fault_rate: 1000/s\ntasks:\n  - {name: a, pattern: random}\n";
    private const string Reordered = "tasks:\n  - {pattern: random, name: a}\nhost.fault_rate: 1/ms\nguest:\n  memory: 8192MiB\n  vcpus: 4\n";

    [Fact]
    public void Key_order_and_spelling_do_not_change_the_hash()
    {
        Assert.Equal(Resolve(Ordered).ComputeHash(), Resolve(Reordered).ComputeHash());
        Assert.Equal(Resolve(Ordered).ComputeHash(), Resolve(string.Empty, "tasks[0].name=a", "tasks[0].pattern=random", "guest.vcpus=4", "guest.memory=8GiB").ComputeHash());
    }

    [Fact]
    public void Any_value_change_changes_the_hash()
    {
        var baseline = Resolve(Ordered).ComputeHash();
        Assert.NotEqual(baseline, Resolve(Ordered, "guest.vcpus=5").ComputeHash());
        Assert.NotEqual(baseline, Resolve(Ordered, "tasks[0].count=2").ComputeHash());
        Assert.NotEqual(baseline, Resolve(Ordered, "name=x").ComputeHash());
    }

    [Fact]
    public void Canonical_text_is_sorted_and_canonical()
    {
        Assert.Equal(
            "guest.apf.dummy_entries=true\nguest.memory=8GiB\nguest.vcpus=4\nguest.ve.can_continue=user\n"
            + "host.fault_latency=250us\nhost.fault_rate=1000/s\nhost.swap_ratio=0.5\nname=unnamed\n"
            + "tasks[0].count=1\ntasks[0].name=a\ntasks[0].pattern=random\ntasks[0].size=4KiB\n",
            Resolve(Reordered).ToCanonicalText());
    }

    [Fact]
    public void Hash_is_pinned()
    {
        var hash = Resolve(Ordered).ComputeHash();
        Assert.Matches("^[0-9a-f]{32}$", hash);
        Assert.Equal(CanonicalHash.Compute(Resolve(Ordered).ToCanonicalText()), hash);
        Assert.Equal("4bad4f18d675d9d9730d2794cbf37f48", CanonicalHash.Compute("a=1\n"));
    }

    [Fact]
    public void Newlines_in_text_values_are_escaped() =>
        Assert.Contains("name=a\\nb\n", Resolve("name: \"a\\nb\"\n").ToCanonicalText(), StringComparison.Ordinal);
}
