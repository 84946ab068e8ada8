using Vexlab.Model.Configuration;
using Vexlab.Scenarios.Documents;
using Vexlab.Scenarios.Values;

namespace Vexlab.Scenarios.Tests;

internal static class TestSupport
{
    public const string FileName = "s.yaml";

    public static KeySchema Schema() => new KeySchema()
        .Add(new KeySpec
        {
            Key = "guest.apf.dummy_entries",
            Kind = ValueKind.Bool,
            Default = true,
            Description = "Queue a dummy entry when the async PF queue is full.",
            Source = "test",
        })
        .Add(new KeySpec { Key = "guest.memory", Kind = ValueKind.Size, Default = "4GiB", Min = 4096, Unit = "bytes", Description = "Guest RAM." })
        .Add(new KeySpec { Key = "guest.vcpus", Kind = ValueKind.Integer, Default = 2, Min = 1, Max = 64, Description = "vCPUs." })
        .Add(new KeySpec
        {
            Key = "guest.ve.can_continue",
            Kind = ValueKind.Enum,
            EnumValues = ["never", "user", "user-or-preemptible-kernel"],
            Default = "user",
            Protocols = ["ve"],
            Description = "When the guest may keep running after a #VE.",
        })
        .Add(new KeySpec { Key = "host.fault_latency", Kind = ValueKind.Duration, Default = "250us", Min = 1, Description = "Fault service time." })
        .Add(new KeySpec { Key = "host.fault_rate", Kind = ValueKind.Rate, Default = "1000/s", Max = 1_000_000, Description = "Fault rate." })
        .Add(new KeySpec { Key = "host.swap_ratio", Kind = ValueKind.Ratio, Default = 0.5, Min = 0, Max = 1, Description = "Swapped fraction." })
        .Add(new KeySpec { Key = "name", Kind = ValueKind.String, Default = "unnamed", Description = "Scenario name." })
        .Add(new ListSpec
        {
            Key = "tasks",
            Description = "Guest tasks.",
            Required = ["name", "pattern"],
            Elements =
            [
                new KeySpec { Key = "name", Kind = ValueKind.String, Description = "Task name." },
                new KeySpec { Key = "pattern", Kind = ValueKind.Enum, EnumValues = ["sequential", "random"], Description = "Access pattern." },
                new KeySpec { Key = "count", Kind = ValueKind.Integer, Default = 1, Min = 1, Description = "Copies." },
                new KeySpec { Key = "vcpu", Kind = ValueKind.Integer, Min = 0, Description = "Pinned vCPU." },
                new KeySpec { Key = "size", Kind = ValueKind.Size, Default = "4KiB", Min = 1, Description = "Working set." },
            ],
        });

    public static ResolvedSettings Resolve(string yaml, params string[] sets) =>
        Schema().Resolve(ScenarioDocument.Parse(yaml, FileName), Overrides.ParseSets(sets));

    /// <summary>Runs <paramref name="action"/>, expects an InputException, checks it is one line and returns it.</summary>
    public static string Fails(Action action)
    {
        var error = Assert.Throws<InputException>(action);
        Assert.DoesNotContain('\n', error.Message);
        Assert.DoesNotContain('\r', error.Message);
        return error.Message;
    }
}
