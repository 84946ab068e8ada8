using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vexlab.Checking.Models;
using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Model.Protocols;

namespace Vexlab.Checking.Reduction;

/// <summary>
/// The symmetry group of a configuration: permutations of vCPUs with identical configuration (the
/// same task programs and modes pinned to them in the same order, NMIs not confined to one of them),
/// each carrying the vCPU's tasks to the other vCPU's tasks in their order, composed with
/// permutations of the tasks pinned to one vCPU that run the same program in the same mode (the
/// checker's pick_next_task may take any runnable task of the vCPU, so which of two such tasks runs
/// first tells them apart by nothing but their index). <see cref="Apply"/> moves
/// the vCPU, task, frame and wakeup-ring records and rewrites every reference to a vCPU or task inside
/// the state: current task, task and work-item vCPUs, sleep-node CPU and task, KVM tokens (whose low 12
/// bits are the vCPU id, kvm_setup_async_pf's make_token), the #VE design's completion tokens (task
/// index + 1) and the workload program indices of frames. <see cref="Canonicalize"/> keeps the
/// lexicographically smallest image, one representative per orbit.
/// </summary>
public sealed class VcpuSymmetry
{
    /// <summary>Values at or above the model's page base are guest addresses, never tokens.</summary>
    private const uint KvmTokenVcpuMask = 0xFFF;

    /// <summary>Most permutations enumerated per state; beyond it the reduction is refused.</summary>
    public const int MaxGroupOrder = 5040;

    private readonly StateLayout _layout;
    private readonly int[][] _vcpuMaps;
    private readonly int[][] _taskMaps;
    private readonly int _workload;

    private VcpuSymmetry(StateLayout layout, IReadOnlyList<IReadOnlyList<int>> classes, IReadOnlyList<IReadOnlyList<string>> taskClasses, int[][] vcpuMaps, int[][] taskMaps)
    {
        _layout = layout;
        Classes = classes;
        TaskClasses = taskClasses;
        _vcpuMaps = vcpuMaps;
        _taskMaps = taskMaps;
        _workload = layout.Tasks - layout.Vcpus;
    }

    /// <summary>The classes of interchangeable vCPUs (only those with two or more members).</summary>
    public IReadOnlyList<IReadOnlyList<int>> Classes { get; }

    /// <summary>The classes of interchangeable tasks (by name): two or more tasks pinned to one vCPU with the same program and mode.</summary>
    public IReadOnlyList<IReadOnlyList<string>> TaskClasses { get; }

    /// <summary>Number of permutations in the group, the identity included: the most a state's orbit can hold.</summary>
    public int Order => _vcpuMaps.Length;

    /// <summary>
    /// The group of <paramref name="config"/>, or null with <paramref name="reason"/> saying why there is none
    /// (no two vCPUs alike, or a feature of the configuration that tells vCPUs apart).
    /// </summary>
    public static VcpuSymmetry? Of(MachineConfig config, StateLayout layout, IReadOnlyList<UserInvariant> invariants, out string reason)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(invariants);
        var host = config.Protocol.Host;
        if (config.Bounds.Migrations > 0)
        {
            // A migrated task joins another vCPU's runqueue, where the round-robin pick (OtherRunnable)
            // goes by task index: the order of a mixed runqueue is not preserved by swapping vCPUs.
            reason = "task migration (bounds: migrations) mixes the vCPUs' runqueues";
            return null;
        }

        if (config.Vcpus > 1 && config.Tasks.Any(t => t.Program.Code.Any(i => i.Op == MicroOp.ApfDisable)))
        {
            // A task woken on a CPU going down goes to the lowest-numbered active vCPU (select_fallback_rq),
            // an index no vCPU permutation keeps, and joins that vCPU's runqueue as a migrated task does.
            reason = "a vCPU going offline (apf-disable) sends its woken user tasks to the lowest-numbered active vCPU";
            return null;
        }

        if (host.PvApf && !host.TokenNeverZero)
        {
            // vCPU 0's first token is 0, the value that means "no token": vCPU 0 is not like the others.
            reason = "with host.apf.token_never_zero=false vCPU 0's first token is 0, which no other vCPU's can be";
            return null;
        }

        if (config.Regions.Any(r => r.PageCount >= 0x1000))
        {
            // A random-addressing choice (frame register R0) must stay below 0x1000 to be told from a token.
            reason = "a region of 4096 pages or more";
            return null;
        }

        if (invariants.Any(i => i.Expression.Contains("vcpu", StringComparison.Ordinal)))
        {
            reason = "an invariant names a vCPU";
            return null;
        }

        var v = config.Vcpus;
        var signatures = new List<int>[v];
        var byVcpu = new List<int>[v];
        var programs = new List<(TaskMode Mode, Instr[] Code)>();
        for (var i = 0; i < v; i++)
        {
            signatures[i] = [];
            byVcpu[i] = [];
        }

        for (var i = 0; i < config.Tasks.Count; i++)
        {
            var task = config.Tasks[i];
            var id = programs.FindIndex(p => p.Mode == task.Mode && p.Code.AsSpan().SequenceEqual(task.Program.Code));
            if (id < 0)
            {
                id = programs.Count;
                programs.Add((task.Mode, task.Program.Code));
            }

            signatures[task.Vcpu].Add(id);
            byVcpu[task.Vcpu].Add(v + i);
        }

        var classOf = new int[v];
        var classes = new List<List<int>>();
        for (var i = 0; i < v; i++)
        {
            classOf[i] = -1;
            if (i == config.NmiVcpu)
            {
                continue;
            }

            for (var c = 0; c < classes.Count; c++)
            {
                var first = classes[c][0];
                if (first != config.NmiVcpu && signatures[first].SequenceEqual(signatures[i]))
                {
                    classOf[i] = c;
                    classes[c].Add(i);
                    break;
                }
            }

            if (classOf[i] < 0)
            {
                classOf[i] = classes.Count;
                classes.Add([i]);
            }
        }

        // Tasks pinned to one vCPU with the same program and mode; with more than the checker's pick
        // alternatives on one vCPU the scheduler's choice is capped in task order and tells them apart.
        var taskClasses = new List<List<int>>();
        for (var i = 0; i < v; i++)
        {
            if (byVcpu[i].Count > ScheduleChoice.MaxAlternatives + 1)
            {
                continue;
            }

            for (var a = 0; a < byVcpu[i].Count; a++)
            {
                var member = taskClasses.FindIndex(c => c.Contains(byVcpu[i][a]));
                if (member >= 0)
                {
                    continue;
                }

                var cls = new List<int> { byVcpu[i][a] };
                for (var b = a + 1; b < byVcpu[i].Count; b++)
                {
                    if (signatures[i][b] == signatures[i][a])
                    {
                        cls.Add(byVcpu[i][b]);
                    }
                }

                if (cls.Count > 1)
                {
                    taskClasses.Add(cls);
                }
            }
        }

        var order = 1L;
        foreach (var c in classes.Concat(taskClasses))
        {
            for (var k = 2; k <= c.Count; k++)
            {
                order *= k;
                if (order > MaxGroupOrder)
                {
                    reason = $"more than {MaxGroupOrder} permutations of interchangeable vCPUs and tasks";
                    return null;
                }
            }
        }

        if (order == 1)
        {
            reason = "no two vCPUs have identical configurations, and no two tasks of one vCPU the same program";
            return null;
        }

        // Every vCPU map that keeps each vCPU inside its class, and every order of each task class
        // (swaps[s][t] is the task t changes places with); the identity first in both.
        var maps = ClassPermutations(v, classes);
        var swaps = ClassPermutations(layout.Tasks, taskClasses);

        var vcpuMaps = new int[maps.Count * swaps.Count][];
        var taskMaps = new int[vcpuMaps.Length][];
        for (var g = 0; g < maps.Count; g++)
        {
            var t = new int[layout.Tasks];
            for (var i = 0; i < v; i++)
            {
                // The idle task of vCPU i is task i; the k-th task pinned to i goes to the k-th pinned to its image.
                t[i] = maps[g][i];
                for (var k = 0; k < byVcpu[i].Count; k++)
                {
                    t[byVcpu[i][k]] = byVcpu[maps[g][i]][k];
                }
            }

            for (var s = 0; s < swaps.Count; s++)
            {
                // First swap tasks within their classes, then move the vCPUs (a class stays on one vCPU,
                // and the vCPU map carries it to the class at the same places of the image vCPU).
                var composed = new int[layout.Tasks];
                for (var x = 0; x < layout.Tasks; x++)
                {
                    composed[x] = t[swaps[s][x]];
                }

                vcpuMaps[(g * swaps.Count) + s] = maps[g];
                taskMaps[(g * swaps.Count) + s] = composed;
            }
        }

        reason = string.Empty;
        return new VcpuSymmetry(
            layout,
            [.. classes.Where(c => c.Count > 1).Select(c => (IReadOnlyList<int>)c)],
            [.. taskClasses.Select(c => (IReadOnlyList<string>)[.. c.Select(x => config.Tasks[x - v].Name)])],
            vcpuMaps,
            taskMaps);
    }

    /// <summary>
    /// Every permutation of 0..n-1 that keeps each element inside its class (elements in no class stay
    /// put): the product of the classes' symmetric groups, the identity first.
    /// </summary>
    private static List<int[]> ClassPermutations(int n, IEnumerable<List<int>> classes)
    {
        var identity = new int[n];
        for (var i = 0; i < n; i++)
        {
            identity[i] = i;
        }

        var all = new List<int[]> { identity };
        foreach (var c in classes)
        {
            var grown = new List<int[]>();
            foreach (var q in all)
            {
                var image = new int[c.Count];
                var used = new bool[c.Count];
                void Extend(int at)
                {
                    if (at == c.Count)
                    {
                        var r = (int[])q.Clone();
                        for (var j = 0; j < c.Count; j++)
                        {
                            r[c[j]] = c[image[j]];
                        }

                        grown.Add(r);
                        return;
                    }

                    // Index order, so that the first permutation grown from each is the identity on the class.
                    for (var x = 0; x < c.Count; x++)
                    {
                        if (!used[x])
                        {
                            used[x] = true;
                            image[at] = x;
                            Extend(at + 1);
                            used[x] = false;
                        }
                    }
                }

                Extend(0);
            }

            all = grown;
        }

        return all;
    }

    /// <summary>Writes the lexicographically smallest image of <paramref name="state"/> under the group into it.</summary>
    /// <param name="state">The state; replaced by its representative.</param>
    /// <param name="scratch">Two buffers of the state's size.</param>
    public void Canonicalize(Span<byte> state, Span<byte> scratch)
    {
        var size = _layout.Size;
        var best = scratch[..size];
        var candidate = scratch.Slice(size, size);
        state.CopyTo(best);
        SortWork(best);
        for (var g = 1; g < _vcpuMaps.Length; g++)
        {
            Apply(g, state, candidate);
            SortWork(candidate);
            if (candidate.SequenceCompareTo(best) < 0)
            {
                var t = best;
                best = candidate;
                candidate = t;
            }
        }

        best.CopyTo(state);
    }

    /// <summary>
    /// Sorts the host's work items by their bytes. Which slot an item sits in means nothing to the machine
    /// (it takes the first free slot, and finds items by vCPU, page and done-list position), but a vCPU
    /// permutation changes which vCPU's item came first: the Reenable and INIT paths allocate in vCPU order.
    /// </summary>
    public void SortWork(Span<byte> state)
    {
        var size = Unsafe.SizeOf<WorkItem>();
        var work = state.Slice(_layout.WorkOffset, _layout.WorkCapacity * size);
        Span<byte> held = stackalloc byte[size];
        for (var i = 1; i < _layout.WorkCapacity; i++)
        {
            var j = i;
            work.Slice(i * size, size).CopyTo(held);
            while (j > 0 && work.Slice((j - 1) * size, size).SequenceCompareTo(held) > 0)
            {
                work.Slice((j - 1) * size, size).CopyTo(work.Slice(j * size, size));
                j--;
            }

            held.CopyTo(work.Slice(j * size, size));
        }
    }

    /// <summary>The permutation <paramref name="g"/> (0 = identity) applied to <paramref name="source"/>, written to <paramref name="destination"/>.</summary>
    public void Apply(int g, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var l = _layout;
        var pv = _vcpuMaps[g];
        var pt = _taskMaps[g];

        // Globals and pages name no vCPU or task.
        source[..l.VcpuOffset].CopyTo(destination);
        source[l.PageOffset..l.Size].CopyTo(destination[l.PageOffset..]);

        var vcpuSize = Unsafe.SizeOf<VcpuState>();
        for (var v = 0; v < l.Vcpus; v++)
        {
            var cpu = MemoryMarshal.Read<VcpuState>(source.Slice(l.VcpuOffset + (v * vcpuSize), vcpuSize));
            cpu.CurrentTask = (byte)pt[cpu.CurrentTask];
            cpu.PendingToken = KvmToken(cpu.PendingToken, pv);
            cpu.ApfToken = KvmToken(cpu.ApfToken, pv);

            // CR2 holds a fault address, or the token of an async #PF (the not-present and page-ready events).
            cpu.Cr2 = KvmToken(cpu.Cr2, pv);
            MemoryMarshal.Write(destination.Slice(l.VcpuOffset + (pv[v] * vcpuSize), vcpuSize), in cpu);

            var ringSize = Unsafe.SizeOf<WakeRecord>();
            for (var i = 0; i < l.RingCapacity; i++)
            {
                var from = l.RingOffset + (((v * l.RingCapacity) + i) * ringSize);
                var to = l.RingOffset + (((pv[v] * l.RingCapacity) + i) * ringSize);
                var r = MemoryMarshal.Read<WakeRecord>(source.Slice(from, ringSize));
                r.Token = WaitToken(r.Token, pv, pt);
                MemoryMarshal.Write(destination.Slice(to, ringSize), in r);
            }
        }

        var taskSize = Unsafe.SizeOf<TaskState>();
        var frameSize = Unsafe.SizeOf<Frame>();
        for (var t = 0; t < l.Tasks; t++)
        {
            var task = MemoryMarshal.Read<TaskState>(source.Slice(l.TaskOffset + (t * taskSize), taskSize));
            task.Vcpu = (byte)pv[task.Vcpu];
            task.WaitToken = WaitToken(task.WaitToken, pv, pt);
            MemoryMarshal.Write(destination.Slice(l.TaskOffset + (pt[t] * taskSize), taskSize), in task);
            for (var d = 0; d < l.MaxDepth; d++)
            {
                var f = MemoryMarshal.Read<Frame>(source.Slice(l.FrameOffset + (((t * l.MaxDepth) + d) * frameSize), frameSize));
                if (f.Program >= HandlerProgram.Count)
                {
                    // Workload task i runs program HandlerProgram.Count + i; its image runs its image's.
                    f.Program = (byte)(HandlerProgram.Count + pt[l.Vcpus + f.Program - HandlerProgram.Count] - l.Vcpus);
                }

                // R0 holds a token read from the APF area or CR2, a saved CR2, a gpa, or a page choice (< 0x1000).
                f.R0 = KvmToken(f.R0, pv);

                // The event's CR2: the token of an async #PF.
                f.EventInfo = KvmToken(f.EventInfo, pv);
                MemoryMarshal.Write(destination.Slice(l.FrameOffset + (((pt[t] * l.MaxDepth) + d) * frameSize), frameSize), in f);
            }
        }

        var workSize = Unsafe.SizeOf<WorkItem>();
        for (var i = 0; i < l.WorkCapacity; i++)
        {
            var at = l.WorkOffset + (i * workSize);
            var w = MemoryMarshal.Read<WorkItem>(source.Slice(at, workSize));
            if (w.Kind != WorkKind.Free)
            {
                w.Vcpu = (byte)pv[w.Vcpu];
                w.Token = WaitToken(w.Token, pv, pt);
            }

            MemoryMarshal.Write(destination.Slice(at, workSize), in w);
        }

        var nodeSize = Unsafe.SizeOf<SleepNode>();
        for (var i = 0; i < l.SleepCapacity; i++)
        {
            var at = l.SleepOffset + (i * nodeSize);
            var n = MemoryMarshal.Read<SleepNode>(source.Slice(at, nodeSize));
            if (n.Used != 0)
            {
                n.Cpu = (byte)pv[n.Cpu];

                // A dummy's Task byte is its error flag (kvm_async_pf_task_wake's dummy), not a task.
                if (n.Dummy == 0)
                {
                    n.Task = (byte)pt[n.Task];
                }

                n.Token = KvmToken(n.Token, pv);
            }

            MemoryMarshal.Write(destination.Slice(at, nodeSize), in n);
        }
    }

    /// <summary>
    /// A KVM token is (id &lt;&lt; 12) | vcpu_id (kvm_setup_async_pf); ids skip 0 (token_never_zero), so a token
    /// is at least 0x1000, and it stays below the model's guest addresses. Other values pass unchanged.
    /// </summary>
    private static uint KvmToken(uint value, int[] pv)
    {
        if (value < 0x1000 || value >= Machine.PageBase)
        {
            return value;
        }

        var vcpu = (int)(value & KvmTokenVcpuMask);
        return vcpu < pv.Length ? (value & ~KvmTokenVcpuMask) | (uint)pv[vcpu] : value;
    }

    /// <summary>A task's wait token: the #VE design's completion (task index + 1, its InitCompletion) or a KVM token.</summary>
    private uint WaitToken(uint value, int[] pv, int[] pt)
    {
        if (value >= 1 && value <= (uint)(_layout.Vcpus + _workload))
        {
            return (uint)pt[value - 1] + 1;
        }

        return KvmToken(value, pv);
    }
}
