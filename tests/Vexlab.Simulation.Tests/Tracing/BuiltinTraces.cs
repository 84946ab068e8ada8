using Vexlab.Model.Machine;
using Vexlab.Model.Protocols;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Scenarios;
using Vexlab.Simulation.Tests.Driver;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Tracing;

/// <summary>Short runs of every built-in under every protocol, with their trace records.</summary>
internal static class BuiltinTraces
{
    public const string Duration = "duration=3ms";

    public static TheoryData<string, string> All()
    {
        var data = new TheoryData<string, string>();
        foreach (var b in Builtins.Names)
        {
            foreach (var p in ProtocolCatalog.Names)
            {
                data.Add(b, p);
            }
        }

        return data;
    }

    /// <param name="builtin">The built-in scenario.</param>
    /// <param name="protocol">The protocol entry.</param>
    /// <param name="sets">Scenario keys to set (key=value); none: <see cref="Duration"/>.</param>
    public static (SimulationResult Result, RecordingSink Trace, TraceThreads Threads) Run(string builtin, string protocol, params string[] sets)
    {
        var entry = Overrides.ParseProtocols(protocol)[0];
        var run = BuiltinRuns.Prepare(builtin, entry, 1.0, sets.Length == 0 ? [Duration] : sets);
        var sink = new RecordingSink();
        var result = ScenarioRunner.Run(run, sink);
        var threads = new TraceThreads(run.Setup.Machine.Vcpus, new Machine(run.Setup.Machine).WorkCapacity, pcpus: run.Setup.Pcpus);
        return (result, sink, threads);
    }

    public static string Text(IEnumerable<TraceRecord> records, TraceThreads threads)
    {
        var sw = new StringWriter();
        var w = new FtraceWriter(sw, threads);
        foreach (var r in records)
        {
            w.Write(r);
        }

        w.Complete(0);
        return sw.ToString();
    }
}
