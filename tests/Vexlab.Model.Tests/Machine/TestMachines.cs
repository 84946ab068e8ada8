using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Model.Protocols;
using Vexlab.Model.Scripting;

namespace Vexlab.Model.Tests.Machine;

/// <summary>Small machines for scripted tests: pages 0..N-1, tasks pinned as given.</summary>
public static class TestMachines
{
    public static Instr Touch(int page) => new(MicroOp.Touch, (byte)Addressing.Page, (ushort)page);

    public static Instr KTouch(int page, bool fixup = true) =>
        new(MicroOp.KTouch, (byte)((byte)Addressing.Page | (fixup ? TouchFlags.Fixup : 0)), (ushort)page);

    public static Instr Op(MicroOp op, byte a = 0) => new(op, a);

    public static TaskSpec User(string name, int vcpu, params Instr[] code) =>
        new(name, TaskMode.User, vcpu, new GuestProgram(name, [.. code, new Instr(MicroOp.WorkDone), new Instr(MicroOp.Exit)]));

    public static TaskSpec Kernel(string name, int vcpu, params Instr[] code) =>
        new(name, TaskMode.Kernel, vcpu, new GuestProgram(name, [.. code, new Instr(MicroOp.WorkDone), new Instr(MicroOp.Exit)]));

    /// <summary>A task that computes forever (keeps a context alive for delivery checks).</summary>
    public static TaskSpec Spinner(string name, TaskMode mode, int vcpu, params Instr[] prefix) =>
        new(name, mode, vcpu, new GuestProgram(name, [.. prefix, new Instr(MicroOp.Compute), new Instr(MicroOp.Jump, 0, (ushort)prefix.Length)]));

    public static Model.Machine.Machine Build(
        string protocol,
        TaskSpec[] tasks,
        int pages = 4,
        HostPage absent = HostPage.AbsentIo,
        int absentFrom = 0,
        int absentCount = 2,
        int vcpus = 1,
        (string Key, string Value)[]? knobs = null,
        ExternalBounds? bounds = null,
        int nmiTouchPage = -1,
        bool dax = false,
        bool guestPresent = true,
        PageGroupSpec[]? groups = null,
        int tracePage = -1)
    {
        var spec = ProtocolCatalog.Create(protocol, knobs?.Select(k => new KeyValuePair<string, string>(k.Key, k.Value)));
        var config = new MachineConfig
        {
            Vcpus = vcpus,
            Pages = pages,
            Tasks = tasks,
            Protocol = spec,
            PageGroups = [new PageGroupSpec(absentFrom, absentCount, absent, guestPresent, 0, dax), .. groups ?? []],
            Bounds = bounds ?? ExternalBounds.None,
            NmiTouchPage = nmiTouchPage,
            TracePage = tracePage,
        };
        return new Model.Machine.Machine(config);
    }

    /// <summary>Steps vCPU 0, entering the guest when it waits in the host (5.7), until an event of <paramref name="kind"/>.</summary>
    public static void GuestRunsUntil(Script s, ModelEventKind kind)
    {
        for (var i = 0; i < 64; i++)
        {
            if (s.Do(s.IsEnabled(ActionKind.Enter) ? ActionKind.Enter : ActionKind.Step).Exists(e => e.Kind == kind))
            {
                return;
            }
        }

        throw new InvalidOperationException($"no {kind} within 64 steps");
    }

    /// <summary>The work item (queued, in flight or done) for <paramref name="page"/>.</summary>
    public static int FindWork(Model.Machine.Machine m, int page)
    {
        for (var i = 0; i < m.WorkCapacity; i++)
        {
            if (m.Work(i).Kind != WorkKind.Free && m.Work(i).Page == page)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"no work for page {page}");
    }
}
