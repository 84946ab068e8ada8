using Vexlab.Checking.Models;

namespace Vexlab.Checking.Tests.Models;

/// <summary>Model files whose vCPUs are interchangeable: the same programs pinned to each.</summary>
internal static class SymmetryModels
{
    public const string TwoVcpus = """
        name: sym2
        vcpus: 2
        pages: 2
        host_absent: [0, 1]
        knobs: {host.apf.ready_target: any}
        tasks:
          - {name: a, mode: user, vcpu: 0, program: "touch 0; touch 1"}
          - {name: b, mode: user, vcpu: 1, program: "touch 0; touch 1"}
        """;

    public const string ThreeVcpus = """
        name: sym3
        vcpus: 3
        pages: 1
        host_absent: [0]
        knobs: {host.apf.ready_target: any}
        tasks:
          - {name: a, mode: user, vcpu: 0, program: "touch 0"}
          - {name: b, mode: user, vcpu: 1, program: "touch 0"}
          - {name: c, mode: user, vcpu: 2, program: "touch 0"}
        """;

    /// <summary>Two tasks per vCPU (a kernel thread and a user task, interleaved in the task list), one tick, one NMI, one re-enable.</summary>
    public const string TwoByTwo = """
        name: sym2x2
        vcpus: 2
        pages: 2
        host_absent: [0, 1]
        knobs: {host.apf.ready_target: any}
        bounds: {nmis: 1, ticks: 1, reenables: 1}
        tasks:
          - {name: k0, mode: kernel, vcpu: 0, program: "ktouch 1"}
          - {name: k1, mode: kernel, vcpu: 1, program: "ktouch 1"}
          - {name: u0, mode: user, vcpu: 0, program: "touch 0"}
          - {name: u1, mode: user, vcpu: 1, program: "touch 0"}
        """;

    /// <summary>vCPUs 0 and 2 alike, vCPU 1 different; INITs, SMIs and a teardown.</summary>
    public const string Mixed = """
        name: mixed
        vcpus: 3
        pages: 2
        host_absent: [0, 1]
        bounds: {smis: 1, inits: 1, teardowns: 1}
        tasks:
          - {name: a, mode: user, vcpu: 0, program: "touch 0"}
          - {name: b, mode: user, vcpu: 1, program: "touch 1; touch 0"}
          - {name: c, mode: user, vcpu: 2, program: "touch 0"}
        """;

    /// <summary>One vCPU running three tasks with the same program: only task permutations, no vCPU one.</summary>
    public const string SameTasks = """
        name: symtasks
        vcpus: 1
        pages: 1
        host_absent: [0]
        knobs: {host.apf.ready_target: any}
        tasks:
          - {name: a, mode: user, vcpu: 0, program: "touch 0"}
          - {name: b, mode: user, vcpu: 0, program: "touch 0"}
          - {name: c, mode: user, vcpu: 0, program: "touch 0"}
        """;

    /// <summary>Two vCPUs with two like user tasks each: vCPU and task permutations composed (order 8).</summary>
    public const string TwoByTwoSame = """
        name: sym2x2same
        vcpus: 2
        pages: 1
        host_absent: [0]
        knobs: {host.apf.ready_target: any}
        tasks:
          - {name: u0, mode: user, vcpu: 0, program: "touch 0"}
          - {name: v0, mode: user, vcpu: 0, program: "touch 0"}
          - {name: u1, mode: user, vcpu: 1, program: "touch 0"}
          - {name: v1, mode: user, vcpu: 1, program: "touch 0"}
        """;

    public static ModelFile Load(string yaml) => ModelFile.Parse(yaml, "symmetry-model.yaml");
}
