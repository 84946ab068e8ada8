using Vexlab.Model.Configuration;
using Vexlab.Scenarios.Documents;

namespace Vexlab.Simulation.Scenarios;

/// <summary>The built-in scenarios: the files under scenarios/, embedded in the assembly.</summary>
public static class Builtins
{
    public static readonly string[] Names = ["postcopy", "swap-overcommit", "kernel-heavy", "dax-truncate", "far-memory"];

    public const string Default = "postcopy";

    public static string Describe(string name) => name switch
    {
        "postcopy" => "post-copy migration: 4 vCPUs, 8 GiB all on the source, mixed user and kernel work",
        "swap-overcommit" => "1 vCPU, guest memory twice the host limit: task mem touches everything, task cpu computes",
        "kernel-heavy" => "most faults in preemptible kernel code: read()/write() copies of swapped-out pages",
        "dax-truncate" => "a DAX file mapped by mapper and read() by reader, truncated at half the duration",
        "far-memory" => "RDMA far memory behind a small local cache, many tasks per vCPU",
        _ => throw new InputException(NearestName.Unknown("built-in scenario", name, Names)),
    };

    /// <summary>The YAML text of a built-in.</summary>
    public static string Text(string name)
    {
        Describe(name);
        using var stream = typeof(Builtins).Assembly.GetManifestResourceStream("builtin." + name + ".yaml")
            ?? throw new InvalidOperationException($"built-in {name} is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static ScenarioDocument Load(string name) => ScenarioDocument.Parse(Text(name), "builtin:" + name);
}
